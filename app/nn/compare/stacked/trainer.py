"""Members that share a batch size, trained as one stacked network: the Trainer loop for K rows.

Every member starts from the same initial row and sees the same batches (one permutation per
epoch from the shared order seed, one input-noise draw, one dropout mask); only its own
optimizer, schedule, l1/l2, weight decay and clipping differ. Records are the Trainer's,
tagged with "member". A member that diverges, early-stops or is stopped leaves the stack
(its final row is kept), so the others run on at full speed.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

from app.nn.choices.losses import loss_function, stacked_loss_function
from app.nn.choices.optimizers import LIVE_GROUP_KEYS
from app.nn.choices.schedules import Schedule
from app.nn.compare.stacked.evaluate import stacked_evaluate
from app.nn.compare.stacked.network import StackedMLP
from app.nn.compare.stacked.optim import StackedRule
from app.nn.compare.stacked.rules import family, make_rule
from app.nn.data.points import Data, featurize
from app.nn.measure.metrics import evaluate, final_scores
from app.nn.models.mlp import Network
from app.nn.records import Record
from app.nn.spec.experiment import Spec
from app.nn.training.trainer import derived_seeds, divergence

_ONE = torch.ones(())  # d(sum of member losses)/d(itself), reused every step


@dataclass
class Member:
    index: int  # position in the comparison
    spec: Spec
    hp: dict[str, Any]
    schedule: Schedule
    initial_loss: float | None = None
    best: dict[str, Any] | None = None  # early stopping: best val loss, epoch, row
    row: torch.Tensor | None = None  # final parameters once the member left the stack
    seconds: float = 0.0

    @classmethod
    def of(cls, index: int, spec: Spec) -> Member:
        t = spec.train
        hp = {
            "lr": t.optimizer.lr,
            "l1": t.l1,
            "l2": t.l2,
            "weight_decay": t.weight_decay,
            "grad_clip": t.grad_clip.max if t.grad_clip else None,
        }
        sched = Schedule(
            t.schedule.name, t.schedule.params(), spec.steps_per_epoch(), spec.total_steps()
        )
        return cls(index, spec, hp, sched)


def _family(m: Member | Spec) -> str | None:
    opt = (m.spec if isinstance(m, Member) else m).train.optimizer
    return family(opt.name, opt.params())


class StackedTrainer:
    """One batched loop over members with equal batch size (and everything else shared)."""

    def __init__(self, members: list[tuple[int, Spec]], data: Data, init: Network) -> None:
        ordered = sorted(members, key=lambda m: str(_family(m[1])))
        self.members = [Member.of(i, s) for i, s in ordered]
        self.active = list(self.members)
        spec = self.spec = ordered[0][1]
        self.data, self.task = data, data.info.task
        self.net = StackedMLP(len(spec.data.features), init.head.out_features, spec.model)
        row = self.net.row(init)
        self.p = row.repeat(len(self.members), 1).requires_grad_()
        loss = stacked_loss_function(spec.train.loss, self.task)
        if loss is None:  # Comparison checks this first (sequential_reason)
            raise ValueError(f"loss {spec.train.loss!r} has no stacked form")
        self.loss = loss
        self.loss_fn = loss_function(spec.train.loss, self.task)
        seeds = derived_seeds(spec.seed)
        self.order_gen = torch.Generator().manual_seed(seeds["order"])
        self.noise_gen = torch.Generator().manual_seed(seeds["noise"])
        self.dropout_gen = torch.Generator().manual_seed(seeds["dropout"])
        self.batch_size = spec.effective_batch_size()
        self.steps_per_epoch = spec.steps_per_epoch()
        self.total_steps = spec.total_steps()
        self.step = self.epoch = 0
        self.stop_requested: set[int] = set()
        self.started = time.perf_counter()
        self._rules()
        self._refresh()

    def _rules(self) -> None:
        """Contiguous row blocks per optimizer family (members are sorted by family)."""
        self.blocks: list[tuple[int, int, StackedRule]] = []
        start = 0
        for _, group in itertools.groupby(self.active, key=_family):
            opts = [m.spec.train.optimizer for m in group]
            rule = make_rule([o.name for o in opts], [o.params() for o in opts], self.net.n)
            self.blocks.append((start, start + len(opts), rule))
            start += len(opts)

    # ---- control --------------------------------------------------------------------------
    def stop(self, index: int | None = None) -> None:
        self.stop_requested.update([m.index for m in self.members] if index is None else [index])

    def set_hparams(self, index: int, **changes: Any) -> dict[str, Any]:
        """Trainer.set_hparams for one member (input_noise is shared, so not per member)."""
        pos = next((p for p, m in enumerate(self.active) if m.index == index), None)
        if pos is None:
            raise ValueError(f"member {index} is not training")
        m = self.active[pos]
        a, _, rule = next(blk for blk in self.blocks if blk[0] <= pos < blk[1])
        for key, value in changes.items():
            if key in m.hp:
                if key == "grad_clip" and m.spec.train.grad_clip is None and value:
                    raise ValueError("grad_clip: this member was started without clipping")
                m.hp[key] = value
            elif key in LIVE_GROUP_KEYS and key in rule.params[pos - a]:
                opt = m.spec.train.optimizer
                if family(opt.name, {**rule.params[pos - a], key: value}) != _family(m):
                    raise ValueError(f"{key}: this change needs another update rule; restart")
                rule.set_param(pos - a, key, value)
            else:
                raise ValueError(f"{key}: not live-tunable for {m.spec.train.optimizer.name}")
        self._refresh()
        return dict(changes)

    def row(self, index: int) -> torch.Tensor:
        for pos, m in enumerate(self.active):
            if m.index == index:
                return self.p.detach()[pos].clone()
        member = next(m for m in self.members if m.index == index)
        assert member.row is not None
        return member.row

    def network(self, index: int) -> Network:
        return self.net.network(self.row(index))

    def progress(self) -> float:
        return self.step / self.total_steps if self.active else 1.0

    # ---- the loop -------------------------------------------------------------------------
    def records(self) -> Iterator[Record]:
        for ev, m in zip(self._evaluate(), self.active, strict=True):
            m.initial_loss = ev["train"]["loss"]
            yield ev
        eval_every = self.spec.stream.eval_every
        n, bs = len(self.data.train), self.batch_size
        while self.epoch < self.spec.train.epochs:
            perm = torch.randperm(n, generator=self.order_gen)
            for i in range(self.steps_per_epoch):
                stopping = [m for m in self.active if m.index in self.stop_requested]
                yield from self._leave(stopping, "stopped", "stopped by the user")
                if not self.active:
                    return
                recs = self._train_step(perm[i * bs : (i + 1) * bs])
                yield from recs
                gone = {r["member"]: r["diverged"] for r in recs if r["diverged"]}
                for m in [m for m in self.active if m.index in gone]:
                    yield from self._leave([m], "diverged", gone[m.index])
                if not self.active:
                    return
                if eval_every and self.step % eval_every == 0 and i + 1 < self.steps_per_epoch:
                    yield from self._evaluate()
            self.epoch += 1
            evs = self._evaluate()
            early = [self._epoch_end(m, ev) for m, ev in zip(self.active, evs, strict=True)]
            for ev, why in zip(evs, early, strict=True):
                if eval_every == 0 or self.step % eval_every == 0 or why:
                    yield ev
            for m, why in list(zip(self.active, early, strict=True)):
                if why:
                    yield from self._leave([m], "finished", why)
            if not self.active:
                return
        yield from self._leave(list(self.active), "finished", "completed all epochs")

    def _batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        train = self.data.train
        noise = self.spec.train.input_noise
        if noise:
            raw = train.raw[idx]
            raw = raw + torch.randn(raw.shape, generator=self.noise_gen) * noise
            return featurize(raw, self.data.features), train.y[idx]
        return train.x[idx], train.y[idx]

    def _refresh(self) -> None:
        """Per-member settings as lists and columns, rebuilt when members or hparams change."""
        act = self.active
        self.l1 = [m.hp["l1"] for m in act]
        self.l2 = [m.hp["l2"] for m in act]
        self.penalised = any(self.l1) or any(self.l2)
        self.l1_col, self.l2_col = torch.tensor(self.l1), torch.tensor(self.l2).mul_(0.5)
        self.modes = [self._clip_mode(m) for m in act]
        self.decays = [m.hp["weight_decay"] for m in act]

    def _train_step(self, idx: torch.Tensor) -> list[Record]:
        t = self.spec.train
        act, net, p = self.active, self.net, self.p
        lrs = [m.hp["lr"] * m.schedule.factor(self.step) for m in act]
        xb, yb = self._batch(idx)
        gen = self.dropout_gen if any(net.dropout) else None
        losses = self.loss(net.forward(p, xb, gen), yb, t.label_smoothing, t.huber_delta)
        total = losses
        pen = None
        if self.penalised:  # l1·Σ|w| + l2/2·Σw² over weights, per member
            mask = net.weight_mask
            pen = self.l1_col * (p.abs() @ mask) + self.l2_col * (p * p @ mask)
            total = losses + pen
        p.grad = None
        total.sum().backward(_ONE)
        assert p.grad is not None
        g, pd = p.grad, p.detach()
        nl = len(net.shapes)
        with torch.no_grad():
            modes = self.modes
            pre = g.square() @ net.segments_total if any(modes) else None  # pre-clip norms
            clipped = self._clip(g, pre[:, -1], modes) if pre is not None else None
            before = pd.clone()
            if any(self.decays):  # decoupled decay on weights, before the update (as Trainer)
                wd = torch.tensor([d * lr for d, lr in zip(self.decays, lrs, strict=True)])
                pd.mul_(1 - wd.unsqueeze(1) * net.weight_mask)
            for a, b, rule in self.blocks:
                rule.step(pd[a:b], g[a:b], lrs[a:b])
            # Every per-layer norm of every member from one matmul: (3, m, n) @ (n, 2L + 1)
            # gives per-layer squares of grads, updates and weights, plus the grad total.
            sq = torch.stack([g, before.sub_(pd), pd]).square_() @ net.segments_total
            if pre is not None:
                sq[0] = pre
            lead = [losses.detach().unsqueeze(1)]
            if pen is not None:
                lead.append(pen.detach().unsqueeze(1))
            if clipped is not None:
                lead.append(clipped.unsqueeze(1))
            norms = sq.sqrt_().transpose(0, 1).reshape(len(act), -1)
            rows = torch.cat([*lead, norms], 1).tolist()
        self.step += 1
        frac = (self.step - self.epoch * self.steps_per_epoch) / self.steps_per_epoch
        epoch, o = self.epoch + frac, len(lead)
        # row: lead, then [grad w, grad b, total] [update w, b, total] [weight w, b, total]
        width = 2 * nl + 1
        recs = []
        for pos, (m, lr, row) in enumerate(zip(act, lrs, rows, strict=True)):
            loss, wn = row[0], row[o + 2 * width : o + 2 * width + nl]
            upd = row[o + width : o + width + nl]
            rec: Record = {
                "kind": "step",
                "member": m.index,
                "step": self.step,
                "epoch": epoch,
                "loss": loss,
                "lr": lr,
                "grad_norm": row[o + 2 * nl],
                "grad_w": row[o : o + nl],
                "grad_b": row[o + nl : o + 2 * nl],
                "update_ratio": [u / w if w > 0 else 0.0 for u, w in zip(upd, wn, strict=True)],
                "weight_norm": wn,
                "diverged": self._divergence(m, loss),
            }
            if pen is not None and (self.l1[pos] or self.l2[pos]):
                rec["penalty"] = row[1]
            if clipped is not None and modes[pos]:
                rec["grad_norm_clipped"] = row[1 + (pen is not None)]
            recs.append(rec)
        return recs

    def _clip_mode(self, m: Member) -> str:
        clip = m.spec.train.grad_clip
        return clip.mode if clip is not None and m.hp["grad_clip"] else ""

    def _clip(self, g: torch.Tensor, total_sq: torch.Tensor, modes: list[str]) -> torch.Tensor:
        """Per-member clipping of the stacked gradient (in place); the clipped norms."""

        def limits(which: str) -> torch.Tensor:  # inf = this member is not clipped that way
            maxes = [
                m.hp["grad_clip"] if mode == which else math.inf
                for m, mode in zip(self.active, modes, strict=True)
            ]
            return torch.tensor(maxes).unsqueeze(1)

        if "norm" in modes:  # torch's clip_grad_norm_: scale by max / (norm + 1e-6), at most 1
            g.mul_((limits("norm") / (total_sq.sqrt().unsqueeze(1) + 1e-6)).clamp(max=1.0))
        if "value" in modes:
            limit = limits("value")
            g.clamp_(-limit, limit)
        return g.square().sum(1).sqrt()

    def _divergence(self, m: Member, loss: float) -> str:
        return divergence(loss, self.step, m.initial_loss)

    def _epoch_end(self, m: Member, ev: Record) -> str:
        monitor = ev["val"]["loss"] if ev["val"] else ev["train"]["loss"]
        m.schedule.epoch_end(monitor)
        es = self.spec.train.early_stopping
        if es is None or ev["val"] is None:
            return ""
        val = ev["val"]["loss"]
        if m.best is None or val < m.best["loss"] - es.min_delta:
            m.best = {"loss": val, "epoch": self.epoch, "row": self.row(m.index)}
            return ""
        if self.epoch - m.best["epoch"] >= es.patience:
            return (
                f"early stopping: no validation improvement for {es.patience} epochs; "
                f"restored the weights of epoch {m.best['epoch']}"
            )
        return ""

    # ---- measurements ---------------------------------------------------------------------
    def _evaluate(self) -> list[Record]:
        t = self.spec.train
        results = stacked_evaluate(
            self.net,
            self.p,
            self.data.splits(),
            self.task,
            self.loss,
            t.label_smoothing,
            t.huber_delta,
        )
        return [
            {
                "kind": "eval",
                "member": m.index,
                "step": self.step,
                "epoch": self.epoch,
                "lr": m.hp["lr"] * m.schedule.factor(self.step),
                **ev,
            }
            for m, ev in zip(self.active, results, strict=True)
        ]

    def final_scores(self, net: Network) -> dict[str, float | None]:
        t = self.spec.train
        ev = evaluate(
            net, self.data.splits(), self.task, self.loss_fn, t.label_smoothing, t.huber_delta
        )
        return final_scores(ev, self.task)

    def _leave(self, members: list[Member], status: str, reason: str) -> Iterator[Record]:
        """End these members: keep their final (or best) row, drop them from the stack."""
        if not members:
            return
        gone = {m.index for m in members}
        for m in members:  # like the Trainer, only a finished run restores its best weights
            best = m.best is not None and status == "finished"
            m.row = m.best["row"] if best and m.best else self.row(m.index)
            m.seconds = time.perf_counter() - self.started
        keep = [pos for pos, m in enumerate(self.active) if m.index not in gone]
        self.active = [self.active[pos] for pos in keep]
        self.p = self.p.detach()[keep].clone().requires_grad_()
        rules = []
        for a, b, rule in self.blocks:
            local = [pos - a for pos in keep if a <= pos < b]
            if local:
                rule.keep(local)
                rules.append(rule)
        starts = [sum(r.m for r in rules[:j]) for j in range(len(rules))]
        self.blocks = [(s, s + r.m, r) for s, r in zip(starts, rules, strict=True)]
        self._refresh()
        for m in members:
            assert m.row is not None
            yield {
                "kind": "end",
                "member": m.index,
                "status": status,
                "reason": reason,
                "step": self.step,
                "epoch": self.epoch,
                "best_epoch": m.best["epoch"] if m.best else None,
                "final": self.final_scores(self.net.network(m.row)),
                "seconds": m.seconds,
            }
