"""The training loop as a generator of records; the caller decides where records go.

Records are plain JSON-ready dicts:
  {"kind": "start", ...}   once: layer names, task, sizes, loss at init vs chance
  {"kind": "step", ...}    every optimizer step: batch loss, lr, grad/update/weight norms
  {"kind": "eval", ...}    every `stream.eval_every` steps (0 = each epoch end) and at step 0
  {"kind": "end", ...}     last: status finished | diverged | stopped, and the final scores
Between two `next()` calls the caller may pause (just not call), change live
hyper-parameters (`set_hparams`), take a `snapshot()` or `stop()`.
"""

from __future__ import annotations

import copy
import math
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import torch

from app.nn.choices.losses import loss_function
from app.nn.choices.optimizers import LIVE_GROUP_KEYS, OPTIMIZERS, build_optimizer
from app.nn.choices.schedules import Schedule
from app.nn.data.points import Data, featurize
from app.nn.fused import choose_engine, fused_steps
from app.nn.measure.metrics import (
    StepMeter,
    evaluate,
    final_scores,
    grid_picture,
    neuron_pictures,
    symmetry,
    weight_lists,
)
from app.nn.measure.pictures import NEURON_PICTURE_MAX_UNITS
from app.nn.models.mlp import Network, batch_norm_problem, build_model, fast_forward
from app.nn.records import Record
from app.nn.spec.experiment import Spec
from app.nn.training.basics import (  # shared by every trainer; importers may name them here
    build_data,
    derived_seeds,
    divergence,
    key_in_group,
    output_width,
)
from app.nn.training.probing import DenseProbe


class Trainer(DenseProbe):
    """One experiment: data, model, optimizer and the loop state; it answers the
    diagnostics probe as a dense net (app.nn.training.probing)."""

    def __init__(
        self,
        spec: Spec,
        data: Data | None = None,
        model: Network | None = None,
        engine: str = "auto",
    ):
        self.spec = spec
        seeds = derived_seeds(spec.seed)
        self.data = data or build_data(spec)
        self.task = self.data.info.task
        self.model = model or build_model(
            len(spec.data.features), output_width(spec, self.data), spec.model, seeds["init"]
        )
        self.loss_fn = loss_function(spec.train.loss, self.task)
        self.order_gen = torch.Generator().manual_seed(seeds["order"])
        self.noise_gen = torch.Generator().manual_seed(seeds["noise"])
        self.dropout_seed = seeds["dropout"]
        t = spec.train
        self.hp: dict[str, Any] = {
            "lr": t.optimizer.lr,
            "l1": t.l1,
            "l2": t.l2,
            "weight_decay": t.weight_decay,
            "input_noise": t.input_noise,
            "grad_clip": t.grad_clip.max if t.grad_clip else None,
        }
        self.opt_name = t.optimizer.name
        linears = self.model.linears()
        self.weights = [lin.weight for lin in linears]
        self.biases = [lin.bias for lin in linears]
        ids = {id(p) for p in self.weights + self.biases}
        self.extras = [p for p in self.model.parameters() if id(p) not in ids]
        self.params: list[torch.Tensor] = [*self.weights, *self.biases, *self.extras]
        self.meter = StepMeter(self.weights, self.biases, self.extras)
        self._forward = fast_forward(self.model) if isinstance(self.model, Network) else self.model
        self.optimizer = build_optimizer(
            self.opt_name,
            t.optimizer.lr,
            t.optimizer.params(),
            self.weights,
            self.biases + self.extras,
            t.weight_decay,
        )
        self.manual_decay = not OPTIMIZERS[self.opt_name].decoupled_decay_builtin
        self.batch_size = spec.effective_batch_size()
        if problem := batch_norm_problem(self.model, len(self.data.train), self.batch_size):
            raise ValueError(problem)  # refuse at once rather than fail after N steps
        self.steps_per_epoch = spec.steps_per_epoch()
        self.total_steps = spec.total_steps()
        self.schedule = Schedule(
            t.schedule.name, t.schedule.params(), self.steps_per_epoch, self.total_steps
        )
        # Something reads the epoch-end evaluation even when it is not streamed.
        self._epoch_monitor = self.schedule.plateau is not None or t.early_stopping is not None
        self.step = 0
        self.epoch = 0
        self._stop_requested = False
        self.best: dict[str, Any] | None = None  # early stopping: best val loss + weights
        self.initial_loss: float | None = None
        self.started = time.perf_counter()
        # "auto": the fused kernel where it covers the configuration (app/nn/fused).
        self.engine, self.engine_reason = choose_engine(self, engine)
        self._fused = fused_steps(self) if self.engine == "fused" else None

    # ---- live control -------------------------------------------------------------------
    def set_hparams(self, **changes: Any) -> dict[str, Any]:
        """Change hyper-parameters between steps without touching the weights.

        lr, l1, l2, weight_decay, input_noise, grad_clip (max) and the optimizer's own
        param_group values (momentum, alpha, eps, beta1, beta2). Returns what changed."""
        applied: dict[str, Any] = {}
        for key, value in changes.items():
            if key in self.hp:
                if key == "grad_clip" and self.spec.train.grad_clip is None and value:
                    raise ValueError("grad_clip: this run was started without clipping")
                self.hp[key] = value
                if key == "weight_decay" and not self.manual_decay:
                    self.optimizer.param_groups[0]["weight_decay"] = value
            elif key in LIVE_GROUP_KEYS and all(
                key_in_group(g, key) for g in self.optimizer.param_groups
            ):
                for group in self.optimizer.param_groups:
                    LIVE_GROUP_KEYS[key](group, value)
            else:
                raise ValueError(f"{key}: not live-tunable for {self.opt_name}")
            applied[key] = value
        if self._fused is not None:
            self._fused.configure()
        return applied

    def stop(self) -> None:
        self._stop_requested = True

    # ---- the loop -----------------------------------------------------------------------
    def records(self) -> Iterator[Record]:
        torch.manual_seed(self.dropout_seed)  # dropout masks draw from the global RNG
        yield self._start_record()
        first = self.evaluation()
        self.initial_loss = first["train"]["loss"]
        yield first
        status, reason = "finished", "completed all epochs"
        eval_every = self.spec.stream.eval_every
        train = self.data.train
        n = len(train)
        bs = self.batch_size
        while self.epoch < self.spec.train.epochs:
            perm = torch.randperm(n, generator=self.order_gen)
            batches: Iterator[tuple[Any, Any, Any]]
            if self._fused is not None:  # the kernel gathers each batch's rows itself
                batches = self._fused.epoch(perm, bs)
            else:
                # Shuffle once per epoch; each batch is then a view, not an index op per step.
                xs, ys, raws = train.x[perm], train.y[perm], train.raw[perm]
                batches = zip(xs.split(bs), ys.split(bs), raws.split(bs), strict=True)
            for i, (xb, yb, raw) in enumerate(batches):
                if self._stop_requested:
                    yield self._end("stopped", "stopped by the user")
                    return
                if self._fused is not None:
                    rec = self._fused.train_step(xb, yb, raw)  # (first row, end row, order)
                else:
                    rec = self._train_step(xb, yb, raw)
                yield rec
                if rec["diverged"]:
                    yield self._end("diverged", rec["diverged"])
                    return
                if eval_every and self.step % eval_every == 0 and i + 1 < self.steps_per_epoch:
                    yield self.evaluation()
            self.epoch += 1
            wanted = eval_every == 0 or self.step % eval_every == 0
            early = ""
            if wanted or self._epoch_monitor:
                ev = self.evaluation()
                early = self._epoch_end(ev)
                if wanted or early:
                    yield ev
            if early:
                status, reason = "finished", early
                break
        if self.best is not None:
            self.model.load_state_dict(self.best["state"])
        yield self._end(status, reason)

    def run(self) -> Record:
        """Train to the end; return the end record."""
        return deque(self.records(), maxlen=1)[0]

    def penalty(self) -> torch.Tensor | None:
        """L1·Σ|w| + L2/2·Σw² over the Linear weights (never biases or norm params)."""
        l1, l2 = self.hp["l1"], self.hp["l2"]
        terms = []
        if l1:
            terms.append(l1 * sum(w.abs().sum() for w in self.weights))
        if l2:
            terms.append(0.5 * l2 * sum((w * w).sum() for w in self.weights))
        return torch.stack(terms).sum() if terms else None

    def objective(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(data loss, penalty) on a batch, as the optimizer sees them."""
        t = self.spec.train
        loss = self.loss_fn(self.model(x), y, t.label_smoothing, t.huber_delta)
        pen = self.penalty()
        return loss, pen if pen is not None else torch.zeros(())

    def _train_step(self, xb: torch.Tensor, yb: torch.Tensor, raw: torch.Tensor) -> Record:
        t = self.spec.train
        lr = self.hp["lr"] * self.schedule.factor(self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        xb = self.batch_inputs(xb, raw)
        loss = self.loss_fn(self._forward(xb), yb, t.label_smoothing, t.huber_delta)
        pen = self.penalty()
        total = loss + pen if pen is not None else loss
        params = self.params
        for p in params:  # optimizer.zero_grad(set_to_none=True) without its overhead
            p.grad = None
        total.backward()
        with torch.no_grad():
            self.meter.before_step(loss)
            clipped = self._clip(params)
            if self.manual_decay and self.hp["weight_decay"]:
                torch._foreach_mul_(self.weights, 1 - lr * self.hp["weight_decay"])
            self.optimizer.step()
            loss_v, measured = self.meter.after_step()
        self.step += 1
        return self._step_record(loss_v, lr, measured, pen, clipped)

    def _step_record(
        self,
        loss_v: float,
        lr: float,
        measured: dict[str, Any],
        pen: torch.Tensor | None,
        clipped: float | None,
    ) -> Record:
        """The record of the step just taken (every family's trainer yields this shape)."""
        spe = self.steps_per_epoch
        rec: Record = {
            "kind": "step",
            "step": self.step,
            "epoch": self.epoch + (self.step - self.epoch * spe) / spe,
            "loss": loss_v,
            "lr": lr,
            **measured,
            "diverged": self._divergence(loss_v),
        }
        if pen is not None:
            rec["penalty"] = float(pen.detach())
        if clipped is not None:
            rec["grad_norm_clipped"] = clipped
        return rec

    def batch_inputs(self, xb: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
        """A training batch's network input: input noise on the raw points (another
        family's trainer may change its own inputs here, e.g. augment images)."""
        noise = self.hp["input_noise"]
        if noise:
            raw = raw + torch.randn(raw.shape, generator=self.noise_gen) * noise
            xb = featurize(raw, self.data.features)
        return xb

    def _clip(self, params: list[torch.Tensor]) -> float | None:
        clip = self.spec.train.grad_clip
        limit = self.hp["grad_clip"]
        if clip is None or not limit:
            return None
        if clip.mode == "norm":
            torch.nn.utils.clip_grad_norm_(params, limit, foreach=True)
        else:
            torch.nn.utils.clip_grad_value_(params, limit, foreach=True)
        return float(
            torch.linalg.vector_norm(
                torch.stack(torch._foreach_norm([p.grad for p in params if p.grad is not None]))
            )
        )

    def _divergence(self, loss: float) -> str:
        return divergence(loss, self.step, self.initial_loss)

    def _epoch_end(self, ev: Record) -> str:
        """Schedules and early stopping look at validation (else train) loss per epoch."""
        monitor = ev["val"]["loss"] if ev["val"] else ev["train"]["loss"]
        self.schedule.epoch_end(monitor)
        es = self.spec.train.early_stopping
        if es is None or ev["val"] is None:
            return ""
        val = ev["val"]["loss"]
        if self.best is None or val < self.best["loss"] - es.min_delta:
            self.best = {
                "loss": val,
                "epoch": self.epoch,
                "state": copy.deepcopy(self.model.state_dict()),
            }
            return ""
        if self.epoch - self.best["epoch"] >= es.patience:
            return (
                f"early stopping: no validation improvement for {es.patience} epochs; "
                f"restored the weights of epoch {self.best['epoch']}"
            )
        return ""

    # ---- measurements -------------------------------------------------------------------
    def evaluation(self) -> Record:
        t = self.spec.train
        ev = evaluate(
            self.model,
            self.data.splits(),
            self.task,
            self.loss_fn,
            t.label_smoothing,
            t.huber_delta,
        )
        ev["layers"]["symmetry"] = [symmetry(w) for w in self.weights[:-1]]
        return {
            "kind": "eval",
            "step": self.step,
            "epoch": self.epoch,
            "lr": self.hp["lr"] * self.schedule.factor(self.step),
            **ev,
        }

    def snapshot(self, grid_size: int | None = None, neurons: bool | None = None) -> Record:
        """Decision-boundary grid, weights and (small nets) per-neuron pictures."""
        size = grid_size or self.spec.stream.grid_size
        snap: Record = {
            "kind": "snapshot",
            "step": self.step,
            "epoch": self.epoch,
            "grid": grid_picture(self.model, self.data.features, self.task, size),
            **weight_lists(self.model),
        }
        want = self.spec.stream.neuron_grids if neurons is None else neurons
        units = sum(layer.units for layer in self.spec.model.layers)
        if want and 0 < units <= NEURON_PICTURE_MAX_UNITS:
            snap["neurons"] = {
                "size": 20,
                "values": neuron_pictures(self.model, self.data.features, 20),
            }
        return snap

    def final_scores(self) -> dict[str, float | None]:
        ev = self.evaluation()
        return final_scores(ev, self.task)

    def _start_record(self) -> Record:
        classes = self.data.info.classes
        return {
            "kind": "start",
            "task": self.task,
            "classes": classes,
            "layers": self.model.layer_names(),
            "units": [len(self.data.features)]
            + [layer.units for layer in self.spec.model.layers]
            + [output_width(self.spec, self.data)],
            "features": list(self.data.features),
            "sizes": {k: len(s) for k, s in self.data.splits().items()},
            "steps_per_epoch": self.steps_per_epoch,
            "total_steps": self.total_steps,
            "params": sum(p.numel() for p in self.model.parameters()),
            "chance_loss": math.log(classes) if self.task != "regression" else None,
            "engine": {"path": self.engine, "reason": self.engine_reason},
            "points": {
                k: {"x": s.raw.tolist(), "y": s.y.tolist()} for k, s in self.data.splits().items()
            },
        }

    def _end(self, status: str, reason: str) -> Record:
        best_epoch = self.best["epoch"] if self.best else None
        return {
            "kind": "end",
            "status": status,
            "reason": reason,
            "step": self.step,
            "epoch": self.epoch,
            "best_epoch": best_epoch,
            "final": self.final_scores(),
            "seconds": time.perf_counter() - self.started,
        }
