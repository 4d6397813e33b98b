"""A comparison: K members trained together from the same initial weights and data order.

    comparison = Comparison(validate_comparison({...}))
    for rec in comparison.records():   # a generator; pause = stop calling next()
        ...                             # every record carries "member" except the last
    comparison.snapshot(member)         # decision boundary, weights (any time)
    comparison.summary()                # the live table: per-member scores, leader

Records are the Trainer's (start, eval, step, end), each tagged with "member" (its index in
spec.members); start records add "label" and "mode", and only member 0's carries the shared
data "points". The last record is {"kind": "summary", "mode", "members": [...], "seconds"}.

Modes. "batched": members sharing a batch size are one stacked network (stacked_train.py),
one forward/backward for all; groups with different batch sizes advance in turn, the one
least far along first. "sequential": per-member Trainers interleaved step by step (same
initial weights, data and dropout streams), used when the model has BatchNorm / LayerNorm
or an optimizer has no stacked rule (Adafactor). `mode_reason` says why.

Summary (`summary()`, live at any time; the last record carries the final one), per member:
current scores (train/val/test loss and accuracy or r2/rmse from the latest evaluation, then
the end record's final scores), best val loss and its step, steps_to_target, wall time,
diverged / diverged_at, and "leader" (lowest val loss, else train loss, among members that
did not diverge). steps_to_target is the first evaluation step (its resolution is the eval
cadence, once per epoch by default) at which the full training-set loss is <= the target:
spec target_loss, else target_fraction (default 0.1) x the initial training loss, which all
members share because they share the initial weights. Wall time ("seconds"): while running,
time since the start; batched, from the start to the member's end; sequential, the member's
own compute time.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator
from typing import Any

import torch

from app.nn.choices.losses import LOSSES, resolve_loss, stacked_loss_function
from app.nn.choices.optimizers import OPTIMIZERS
from app.nn.compare.spec import ComparisonSpec
from app.nn.compare.stacked.network import unsupported_reason
from app.nn.compare.stacked.rules import family
from app.nn.compare.stacked.trainer import StackedTrainer
from app.nn.data.points import Data
from app.nn.measure.metrics import grid_picture, neuron_pictures, weight_lists
from app.nn.measure.pictures import NEURON_PICTURE_MAX_UNITS
from app.nn.models.mlp import Network, build_model
from app.nn.records import Record
from app.nn.spec.experiment import Spec
from app.nn.training.trainer import (
    Trainer,
    build_data,
    derived_seeds,
    output_width,
)


def sequential_reason(specs: list[Spec], task: str) -> str:
    """Why these members cannot train stacked ("" when they can): the model, or an
    optimizer or loss whose registry entry gives no stacked form."""
    reason = unsupported_reason(specs[0].model)
    if reason:
        return reason
    for spec in specs:
        name = spec.train.optimizer.name
        if family(name, spec.train.optimizer.params()) is None:
            return f"{OPTIMIZERS[name].label} has no stacked update"
        if stacked_loss_function(spec.train.loss, task) is None:
            return (
                f"the {LOSSES[resolve_loss(spec.train.loss, task)].label} loss has no stacked form"
            )
    return ""


def start_record(spec: Spec, data: Data, model: Network) -> Record:
    """What `Trainer` yields first (same keys)."""
    classes = data.info.classes
    return {
        "kind": "start",
        "task": data.info.task,
        "classes": classes,
        "layers": model.layer_names(),
        "units": [len(data.features)]
        + [layer.units for layer in spec.model.layers]
        + [output_width(spec, data)],
        "features": list(data.features),
        "sizes": {k: len(s) for k, s in data.splits().items()},
        "steps_per_epoch": spec.steps_per_epoch(),
        "total_steps": spec.total_steps(),
        "params": sum(p.numel() for p in model.parameters()),
        "chance_loss": math.log(classes) if data.info.task != "regression" else None,
        "points": {k: {"x": s.raw.tolist(), "y": s.y.tolist()} for k, s in data.splits().items()},
    }


class Tracker:
    """The live summary table, fed every record."""

    def __init__(
        self,
        spec: ComparisonSpec,
        specs: list[Spec],
        labels: list[str],
        params: list[int],
        initial: list[str],
    ) -> None:
        """`params`: each member's parameter count (sum of numel); `initial`: "shared" when
        it starts from member 0's initial weights, else "independent"."""
        self.spec = spec
        self.started = time.perf_counter()
        self.rows: list[Record] = [
            {
                "member": i,
                "label": labels[i],
                "optimizer": s.train.optimizer.name,
                "lr": s.train.optimizer.lr,
                "batch_size": s.effective_batch_size(),
                "params": params[i],
                "initial_weights": initial[i],
                "status": "running",
                "reason": "",
                "step": 0,
                "epoch": 0,
                "loss": None,
                "scores": {},
                "best_val_loss": None,
                "best_val_step": None,
                "target_loss": spec.target_loss,
                "steps_to_target": None,
                "seconds": 0.0,
                "diverged": False,
                "diverged_at": None,
            }
            for i, s in enumerate(specs)
        ]

    def observe(self, rec: Record) -> None:
        if "member" not in rec:
            return
        row = self.rows[rec["member"]]
        kind = rec["kind"]
        if kind == "step":
            row["step"], row["epoch"], row["loss"] = rec["step"], rec["epoch"], rec["loss"]
        elif kind == "eval":
            self._eval(row, rec)
        elif kind == "end":
            row.update(status=rec["status"], reason=rec["reason"], step=rec["step"])
            row.update(epoch=rec["epoch"], seconds=rec["seconds"], scores=dict(rec["final"]))
            if rec["status"] == "diverged":
                row["diverged"], row["diverged_at"] = True, rec["step"]

    def set_reason(self, member: int, reason: str) -> None:
        """Why a member ended, as its runner knows it (the engine only sees "stopped")."""
        self.rows[member]["reason"] = reason

    def _eval(self, row: Record, rec: Record) -> None:
        train_loss = rec["train"]["loss"]
        if row["target_loss"] is None:  # first evaluation = the shared initial loss
            row["target_loss"] = self.spec.target_fraction * train_loss
        if row["steps_to_target"] is None and train_loss <= row["target_loss"]:
            row["steps_to_target"] = rec["step"]
        scores: Record = {}
        for split in ("train", "val", "test"):
            for key, value in (rec[split] or {}).items():
                scores[f"{split}_{key}"] = value
        row["scores"] = scores
        if rec["val"] is not None:
            val = rec["val"]["loss"]
            if row["best_val_loss"] is None or val < row["best_val_loss"]:
                row["best_val_loss"], row["best_val_step"] = val, rec["step"]

    def table(self) -> list[Record]:
        """Rows with the leader (lowest val loss, else train loss; never a diverged one)."""
        rows = [{**r, **r["scores"]} for r in self.rows]
        now = time.perf_counter() - self.started
        for r in rows:
            del r["scores"]
            if r["status"] == "running":  # live wall time; the end record's once finished
                r["seconds"] = now
        ranked = [r for r in rows if not r["diverged"]]
        metric = "val_loss" if any(r.get("val_loss") is not None for r in ranked) else "train_loss"
        finite = [
            r for r in ranked if isinstance(r.get(metric), float) and math.isfinite(r[metric])
        ]
        leader = min(finite, key=lambda r: r[metric])["member"] if finite else None
        for r in rows:
            r["leader"] = r["member"] == leader
        return rows


class Comparison:
    """Train the members of a ComparisonSpec together; see the module docstring."""

    def __init__(self, spec: ComparisonSpec, data: Data | None = None, mode: str = "auto") -> None:
        self.spec = spec
        self.specs = spec.member_specs()
        self.labels = spec.labels()
        base = self.specs[0]
        self.data = data or build_data(base)
        n_in, n_out = len(base.data.features), output_width(base, self.data)
        self.init = build_model(n_in, n_out, base.model, derived_seeds(base.seed)["init"])
        self.mode_reason = sequential_reason(self.specs, self.data.info.task)
        if mode not in ("auto", "batched", "sequential"):
            raise ValueError(f"mode: auto, batched or sequential (got {mode!r})")
        if mode == "batched" and self.mode_reason:
            raise ValueError(f"cannot batch this comparison: {self.mode_reason}")
        self.mode = "sequential" if mode == "sequential" or self.mode_reason else "batched"
        if mode == "sequential" and not self.mode_reason:
            self.mode_reason = "requested"
        self.groups: list[StackedTrainer] = []
        self.trainers: list[Trainer] = []
        if self.mode == "batched":
            by_bs: dict[int, list[tuple[int, Spec]]] = {}
            for i, s in enumerate(self.specs):
                by_bs.setdefault(s.effective_batch_size(), []).append((i, s))
            self.groups = [StackedTrainer(ms, self.data, self.init) for ms in by_bs.values()]
        else:
            self.trainers = [Trainer(s, self.data, copy.deepcopy(self.init)) for s in self.specs]
        # Every member starts from self.init: one architecture, one count.
        n_params = sum(p.numel() for p in self.init.parameters())
        k = len(self.specs)
        self.tracker = Tracker(spec, self.specs, self.labels, [n_params] * k, ["shared"] * k)
        self.started = time.perf_counter()

    # ---- control --------------------------------------------------------------------------
    def stop(self, member: int | None = None) -> None:
        """Stop one member (or all) at the next step boundary."""
        for g in self.groups:
            g.stop(member)
        for i, t in enumerate(self.trainers):
            if member is None or member == i:
                t.stop()

    def set_hparams(self, member: int, **changes: Any) -> dict[str, Any]:
        """Live change of one member's lr, l1, l2, weight_decay, grad_clip or optimizer params."""
        if self.trainers:
            return self.trainers[member].set_hparams(**changes)
        group = next(g for g in self.groups if any(m.index == member for m in g.members))
        return group.set_hparams(member, **changes)

    def network(self, member: int) -> Network:
        """Member's current weights as an ordinary Network (a copy when batched)."""
        if self.trainers:
            return self.trainers[member].model
        return next(g for g in self.groups if any(m.index == member for m in g.members)).network(
            member
        )

    def summary(self) -> list[Record]:
        return self.tracker.table()

    def snapshot(
        self, member: int, grid_size: int | None = None, neurons: bool | None = None
    ) -> Record:
        """Trainer.snapshot for one member, tagged with "member"."""
        if self.trainers:
            t = self.trainers[member]
            return {**t.snapshot(grid_size, neurons), "member": member}
        spec, net = self.specs[member], self.network(member)
        row = self.tracker.rows[member]
        size = grid_size or spec.stream.grid_size
        snap: Record = {
            "kind": "snapshot",
            "member": member,
            "step": row["step"],
            "epoch": row["epoch"],
            "grid": grid_picture(net, self.data.features, self.data.info.task, size),
            **weight_lists(net),
        }
        want = spec.stream.neuron_grids if neurons is None else neurons
        units = sum(layer.units for layer in spec.model.layers)
        if want and 0 < units <= NEURON_PICTURE_MAX_UNITS:
            pictures = neuron_pictures(net, self.data.features, 20)
            snap["neurons"] = {"size": 20, "values": pictures}
        return snap

    # ---- the loop -------------------------------------------------------------------------
    def records(self) -> Iterator[Record]:
        source = self._batched() if self.groups else self._sequential()
        for rec in source:
            self.tracker.observe(rec)
            yield rec
        yield {
            "kind": "summary",
            "mode": self.mode,
            "members": self.summary(),
            "seconds": time.perf_counter() - self.started,
        }

    def _start(self, member: int) -> Record:
        rec = start_record(self.specs[member], self.data, self.init)
        if member:
            del rec["points"]
        if self.trainers:
            t = self.trainers[member]
            engine = {"path": t.engine, "reason": t.engine_reason}
        else:
            engine = {"path": "stacked", "reason": "the members train together, batched"}
        return {
            **rec,
            "member": member,
            "label": self.labels[member],
            "mode": self.mode,
            "initial_weights": "shared",
            "engine": engine,
        }

    def _batched(self) -> Iterator[Record]:
        for i in range(len(self.specs)):
            yield self._start(i)
        if len(self.groups) == 1:  # the common case: no interleaving to decide
            yield from self.groups[0].records()
            return
        live = {id(g): g.records() for g in self.groups}
        while live:
            group = min((g for g in self.groups if id(g) in live), key=lambda g: g.progress())
            try:
                yield next(live[id(group)])
            except StopIteration:
                del live[id(group)]

    def _sequential(self) -> Iterator[Record]:
        """Round-robin by progress; each Trainer keeps its own global-RNG (dropout) stream."""
        gens = {i: t.records() for i, t in enumerate(self.trainers)}
        rng = {i: torch.get_rng_state() for i in gens}
        spent = dict.fromkeys(gens, 0.0)
        outside = torch.get_rng_state()
        while gens:
            i = min(gens, key=lambda k: self.trainers[k].step / self.trainers[k].total_steps)
            torch.set_rng_state(rng[i])
            t0 = time.perf_counter()
            try:
                rec = next(gens[i])
            except StopIteration:
                del gens[i]
                continue
            finally:
                spent[i] += time.perf_counter() - t0
                rng[i] = torch.get_rng_state()
            if rec["kind"] == "start":
                rec = self._start(i)
            rec["member"] = i
            if rec["kind"] == "end":
                rec["seconds"] = spent[i]
            torch.set_rng_state(outside)
            yield rec
            outside = torch.get_rng_state()
        torch.set_rng_state(outside)
