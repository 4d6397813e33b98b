"""The transformer family's trainer: the MLP trainer's loop, live controls, schedules,
regularisers, clipping, early stopping and per-layer meters, on token tasks.

It subclasses `Trainer` for everything that does not depend on the model (records(),
set_hparams, penalty, clipping, epoch ends, divergence) and replaces what does: the data,
the model, one optimizer step, the evaluation (loss and accuracy at the answer positions,
per position and per whole sequence) and the snapshot (attention maps and friends).
"""

from __future__ import annotations

import math
import time
from typing import Any, cast

import torch

from app.nn.choices.losses import loss_function
from app.nn.choices.optimizers import OPTIMIZERS, build_optimizer
from app.nn.choices.schedules import Schedule
from app.nn.data.points import Split
from app.nn.data.tokens import make_tokens
from app.nn.measure import attention as views
from app.nn.measure.metrics import StepMeter, final_scores
from app.nn.models.transformer import Transformer, TransformerConfig, build_transformer
from app.nn.records import Record
from app.nn.spec.experiment import Spec
from app.nn.spec.transformer import TransformerPart
from app.nn.training.basics import derived_seeds
from app.nn.training.probing import Site, Trace
from app.nn.training.trainer import Trainer

Tensor = torch.Tensor
Parameter = torch.nn.Parameter
EVAL_CHUNK = 256  # examples per evaluation forward pass (maps are B x heads x T x T)
SHOWN = 4  # examples whose attention maps a snapshot carries (the page picks one)
SAMPLE_EVERY = 1.0  # seconds between two sampled continuations (each is ~24 forward passes)


def config_for(part: TransformerPart, vocab: int) -> TransformerConfig:
    return TransformerConfig(
        vocab=vocab,
        seq_len=part.seq_len(),
        d_model=part.d_model,
        heads=part.heads,
        blocks=part.blocks,
        ffn=part.ffn,
        activation=part.activation,
        positions=part.positions,
        norm=part.norm,
        causal=part.causal,
        dropout=part.dropout,
        scaled=part.scaled,
    )


def named_layers(net: Transformer) -> list[tuple[str, Tensor, Tensor | None]]:
    """(name, weight, bias) of every weight matrix, in the order the charts list them."""
    out: list[tuple[str, Tensor, Tensor | None]] = [("embed", net.embed.weight, None)]
    for i, block in enumerate(net.block_list(), 1):
        attn = block.attn
        out += [
            (f"b{i}.qkv", attn.qkv.weight, attn.qkv.bias),
            (f"b{i}.out", attn.out.weight, attn.out.bias),
            (f"b{i}.ffn1", block.ffn1.weight, block.ffn1.bias),
            (f"b{i}.ffn2", block.ffn2.weight, block.ffn2.bias),
        ]
    return [*out, ("head", net.head.weight, net.head.bias)]


# The live panel probes this many examples (a sequence is many rows).
PROBE_EXAMPLES = 32


class TransformerTrainer(Trainer):
    """One transformer experiment (spec.family == "transformer")."""

    def __init__(self, spec: Spec) -> None:
        part = spec.transformer
        assert part is not None, "a transformer spec has its part (Spec fills it)"
        self.spec, self.part = spec, part
        seeds = derived_seeds(spec.seed)
        self.tokens = make_tokens(
            part.dataset,
            part.size(),
            part.causal,
            spec.data.train_fraction,
            spec.data.val_fraction,
            seeds["data"],
        )
        self.data = self.tokens.data
        self.task = "multiclass"
        self.answer = torch.tensor(self.tokens.answer_positions)
        self.net = build_transformer(config_for(part, len(self.tokens.vocab)), seeds["init"])
        self.model = self.net  # type: ignore[assignment]  # Trainer's code reads any Module
        self._forward = self.net
        self.loss_fn = loss_function(spec.train.loss, self.task)
        self.order_gen = torch.Generator().manual_seed(seeds["order"])
        self.noise_gen = torch.Generator().manual_seed(seeds["noise"])
        self.sample_gen = torch.Generator().manual_seed(seeds["noise"])
        self.dropout_seed = seeds["dropout"]
        t = spec.train
        self.hp: dict[str, Any] = {
            "lr": t.optimizer.lr,
            "l1": t.l1,
            "l2": t.l2,
            "weight_decay": t.weight_decay,
            "grad_clip": t.grad_clip.max if t.grad_clip else None,
            "temperature": 1.0,  # of the sampled continuation (text), not of training
            "example": 0,  # which shown example the attention view reads
        }
        self.opt_name = t.optimizer.name
        layers = named_layers(self.net)
        self.layer_names_ = [name for name, _, _ in layers]
        self.weights = [w for _, w, _ in layers]
        # Trainer types its biases as Parameters (torch types a Linear's weight as Tensor).
        real_biases = cast("list[Parameter]", [b for _, _, b in layers if b is not None])
        self.biases = real_biases
        ids = {id(p) for p in [*self.weights, *real_biases]}
        self.extras = [p for p in self.net.parameters() if id(p) not in ids]
        self.params = [*self.weights, *real_biases, *self.extras]
        # The meter pairs each weight with a bias; the embedding has none (a zero stands in).
        stand_ins = [b if b is not None else torch.zeros(1) for _, _, b in layers]
        self.meter = StepMeter(self.weights, stand_ins, self.extras)
        self.optimizer = build_optimizer(
            self.opt_name,
            t.optimizer.lr,
            t.optimizer.params(),
            self.weights,
            [*real_biases, *self.extras],
            t.weight_decay,
        )
        self.manual_decay = not OPTIMIZERS[self.opt_name].decoupled_decay_builtin
        self.batch_size = spec.effective_batch_size()
        self.steps_per_epoch = spec.steps_per_epoch()
        self.total_steps = spec.total_steps()
        self.schedule = Schedule(
            t.schedule.name, t.schedule.params(), self.steps_per_epoch, self.total_steps
        )
        self._epoch_monitor = self.schedule.plateau is not None or t.early_stopping is not None
        self.step = 0
        self.epoch = 0
        self._stop_requested = False
        self.best: dict[str, Any] | None = None
        self.initial_loss: float | None = None
        self.started = time.perf_counter()
        self.engine, self.engine_reason = "eager", "the fused kernel covers dense nets only"
        self._fused = None
        self._samples: dict[str, Any] | None = None
        self._sampled_at = -math.inf

    # ---- the loss at the answer positions -----------------------------------------------
    def answer_loss(self, logits: Tensor, targets: Tensor) -> Tensor:
        t = self.spec.train
        out = logits[:, self.answer].reshape(-1, logits.shape[-1])
        return self.loss_fn(out, targets[:, self.answer].reshape(-1), t.label_smoothing, 1.0)

    def objective(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        loss = self.answer_loss(self.net(x), y)
        pen = self.penalty()
        return loss, pen if pen is not None else torch.zeros(())

    def _train_step(self, xb: Tensor, yb: Tensor, raw: Tensor) -> Record:
        lr = self.hp["lr"] * self.schedule.factor(self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        loss = self.answer_loss(self.net(xb), yb)
        pen = self.penalty()
        total = loss + pen if pen is not None else loss
        for p in self.params:
            p.grad = None
        total.backward()
        with torch.no_grad():
            self.meter.before_step(loss)
            clipped = self._clip(self.params)
            if self.manual_decay and self.hp["weight_decay"]:
                torch._foreach_mul_(self.weights, 1 - lr * self.hp["weight_decay"])
            self.optimizer.step()
            loss_v, measured = self.meter.after_step()
        self.step += 1
        return self._step_record(loss_v, lr, measured, pen, clipped)

    # ---- the diagnostics hook (app.nn.training.probing) ----------------------------------
    probe_examples = PROBE_EXAMPLES

    def probe_names(self) -> list[str]:
        return list(self.layer_names_)

    def probe_loss(self, out: Tensor, y: Tensor) -> Tensor:
        return self.answer_loss(out, y)

    def probe_trace(self, x: Tensor) -> Trace:
        """The embedding lookup (embed), each block's feed-forward activations (b<i>.ffn1:
        the row of the Linear they follow), every token a row; each block's attention."""
        net, sites = self.net, {}

        def keep(name: str, fn: str) -> Any:
            def hook(module: torch.nn.Module, inputs: Any, output: Tensor) -> None:
                sites[name] = Site(output.reshape(-1, output.shape[-1]), fn)

            return hook

        handles = [net.embed.register_forward_hook(keep("embed", "linear"))]
        for i, block in enumerate(net.block_list(), 1):
            handles.append(
                block.act.register_forward_hook(keep(f"b{i}.ffn1", self.part.activation))
            )
        layers = net.attentions()
        for attn in layers:
            attn.keep = True
        try:
            out = net(x)
            maps = [attn.maps for attn in layers if attn.maps is not None]
        finally:
            for handle in handles:
                handle.remove()
            for attn in layers:
                attn.keep, attn.maps, attn.logits = False, None, None
        t = x.shape[1]  # a causal query t sees t + 1 keys
        keys = torch.arange(1, t + 1) if self.part.causal else torch.full((t,), t)
        uniform = float(keys.double().log().mean())
        return Trace(sites, out, attention=maps, attention_max_entropy=uniform)

    # ---- measurements -------------------------------------------------------------------
    @torch.no_grad()
    def scores(self, split: Split) -> dict[str, Any]:
        """Loss and accuracy over the answer tokens, accuracy per answer position and of
        whole sequences (every answer token right)."""
        was = self.net.training
        self.net.eval()
        loss_sum, right, n = 0.0, torch.zeros(len(self.answer)), len(split)
        pos_loss = torch.zeros(len(self.answer))
        whole = 0
        for a in range(0, n, EVAL_CHUNK):
            x, y = split.x[a : a + EVAL_CHUNK], split.y[a : a + EVAL_CHUNK]
            full = self.net(x)
            logits, target = full[:, self.answer], y[:, self.answer]
            ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2), target, reduction="none")
            pos_loss += ce.sum(0)
            loss_sum += float(self.answer_loss(full, y)) * x.shape[0]
            hit = logits.argmax(-1) == target
            right += hit.sum(0)
            whole += int(hit.all(1).sum())
        self.net.train(was)
        return {
            "loss": loss_sum / n,
            "acc": float(right.sum()) / (n * len(self.answer)),
            "seq_acc": whole / n,
            "pos_acc": (right / n).tolist(),
            "pos_loss": (pos_loss / n).tolist(),
        }

    def evaluation(self) -> Record:
        ev: Record = {
            "kind": "eval",
            "step": self.step,
            "epoch": self.epoch,
            "lr": self.hp["lr"] * self.schedule.factor(self.step),
        }
        for name, split in self.data.splits().items():
            ev[name] = self.scores(split) if len(split) else None
        ev["layers"] = self.block_health()
        return ev

    @torch.no_grad()
    def block_health(self) -> dict[str, list[float]]:
        """Per block: the mean entropy of its attention (nats; log T = uniform) and how
        peaked it is (the mean largest weight), on up to EVAL_CHUNK training examples."""
        maps, _ = views.attention_maps(self.net, self.data.train.x[:EVAL_CHUNK])
        return {
            "attn_entropy": views.entropy(maps).mean((1, 2, 3)).tolist(),
            "attn_max": maps.amax(-1).mean((1, 2, 3)).tolist(),
        }

    def final_scores(self) -> dict[str, float | None]:
        ev = self.evaluation()
        final = final_scores(ev, self.task)
        for split in ("train", "val", "test"):
            final[f"{split}_seq_acc"] = ev[split]["seq_acc"] if ev[split] else None
        return final

    def shown(self) -> Split:
        """The examples the attention view shows: validation's first, else test's, else
        training's."""
        for split in (self.data.val, self.data.test, self.data.train):
            if len(split):
                return Split(split.raw[:SHOWN], split.x[:SHOWN], split.y[:SHOWN])
        raise AssertionError("a dataset has examples")

    def snapshot(self, grid_size: int | None = None, neurons: bool | None = None) -> Record:
        """The live views: attention maps of the shown examples (uint8), the logit scale,
        predictions, the positional encodings, the embeddings in 2-D, sampled text."""
        shown = self.shown()
        maps, logits = views.attention_maps(self.net, shown.x)
        pick = min(int(self.hp["example"]), len(shown) - 1)
        with torch.no_grad():
            was = self.net.training
            self.net.eval()
            predicted = self.net(shown.x).argmax(-1)
            self.net.train(was)
        snap: Record = {
            "kind": "snapshot",
            "step": self.step,
            "epoch": self.epoch,
            "example": pick,
            "tokens": shown.x.tolist(),
            "targets": shown.y.tolist(),
            "predicted": predicted.tolist(),
            "maps": views.pack(maps[:, pick], 0.0, 1.0),
            "logit_scale": views.logit_scale(self.net, logits),
            "embeddings": views.embeddings_2d(self.net),
        }
        pos = self.net.positions()
        if pos is not None:
            snap["positions"] = views.pack(pos)
        if self.part.dataset == "text":
            snap["samples"] = self.samples(shown.x[pick])
        return snap

    def samples(self, context: Tensor) -> dict[str, Any]:
        """Greedy and temperature-T continuations of the first half of an example, redone
        at most every SAMPLE_EVERY seconds (or when T changed)."""
        now = time.monotonic()
        temp = float(self.hp["temperature"])
        fresh = self._samples and self._samples["temperature"] == temp
        if fresh and now - self._sampled_at < SAMPLE_EVERY and self._samples is not None:
            return self._samples
        prompt = context[: max(1, len(context) // 2)]
        vocab = self.tokens.vocab
        text = {
            "prompt": "".join(vocab[i] for i in prompt.tolist()),
            "temperature": temp,
            "greedy": "".join(
                vocab[i] for i in views.sample(self.net, prompt, 24, 0, self.sample_gen)
            ),
            "sampled": "".join(
                vocab[i] for i in views.sample(self.net, prompt, 24, temp, self.sample_gen)
            ),
        }
        self._samples, self._sampled_at = text, now
        return text

    def _start_record(self) -> Record:
        vocab = len(self.tokens.vocab)
        return {
            "kind": "start",
            "task": self.task,
            "classes": vocab,
            "family": "transformer",
            "layers": list(self.layer_names_),
            "units": [],
            "features": [],
            "vocab": list(self.tokens.vocab),
            "answer_positions": self.tokens.answer_positions,
            "seq_len": self.net.cfg.seq_len,
            "blocks": self.part.blocks,
            "heads": self.part.heads,
            "sizes": {k: len(s) for k, s in self.data.splits().items()},
            "steps_per_epoch": self.steps_per_epoch,
            "total_steps": self.total_steps,
            "params": sum(p.numel() for p in self.net.parameters()),
            "chance_loss": math.log(vocab),
            "engine": {"path": self.engine, "reason": self.engine_reason},
        }
