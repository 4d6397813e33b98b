"""The recurrent family's trainer: the dense trainer's loop on sequences.

The loop (optimizer, schedule, L1/L2, decoupled decay, clipping, early stopping, per-layer
gradient / update / weight norms, divergence, live hyper-parameters) is app.nn.training's
`Trainer`, unchanged; this subclass brings the sequences, the recurrent net, and what is
measured of it: scores in chunks, hidden-state health, ||dL/dh_t|| per time step (in every
evaluation record and every picture) and the live pictures of one sequence.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch

from app.nn.data.sequences import SeqData, SeqSplit, make_sequences, running_targets
from app.nn.measure.sequences import PROBE_SEQUENCES, evaluate_seq, sequence_view, time_grads
from app.nn.models.rnn import SeqNet, build_seqnet, chunk_values, layer_trace
from app.nn.records import Record
from app.nn.spec.experiment import Spec
from app.nn.spec.rnn import RnnPart
from app.nn.training.basics import derived_seeds
from app.nn.training.probing import Site, Trace
from app.nn.training.trainer import Trainer


def build_seq_data(spec: Spec) -> SeqData:
    part = rnn_part(spec)
    return make_sequences(
        part.dataset,
        part.samples,
        part.length,
        part.noise,
        spec.sizes(),
        derived_seeds(spec.seed)["data"],
    )


def rnn_part(spec: Spec) -> RnnPart:
    part = spec.part
    assert isinstance(part, RnnPart), f"not a recurrent spec: family {spec.family}"
    return part


def output_width(data: SeqData) -> int:
    return data.info.classes if data.info.task == "multiclass" else 1


# The live panel probes this many examples (a sequence is many rows).
PROBE_EXAMPLES = 32


class SeqTrainer(Trainer):
    """One recurrent experiment: a Trainer whose data are sequences and whose net is a
    SeqNet (build_seqnet); records, snapshots and live control as the Trainer's."""

    def __init__(self, spec: Spec, data: SeqData | None = None, model: SeqNet | None = None):
        part = rnn_part(spec)
        data = data or build_seq_data(spec)
        model = model or build_seqnet(
            data.info.dims, output_width(data), part, spec.model, derived_seeds(spec.seed)["init"]
        )
        self.part = part
        super().__init__(spec, data=data, model=model, engine="eager")  # type: ignore[arg-type]
        self.engine_reason = "recurrent nets train on torch's own nn.RNN / nn.GRU / nn.LSTM"
        self.seq_data: SeqData = data
        probe = data.train
        n = min(PROBE_SEQUENCES, len(probe))
        self.probe = SeqSplit(probe.x[:n], probe.y[:n])  # the ||dL/dh_t|| curve's sequences
        self.view_split = data.test if len(data.test) else data.train
        self.view_index = 0

    def _train_step(self, xb: torch.Tensor, yb: torch.Tensor, raw: torch.Tensor) -> Record:
        # Input noise goes on the sequence itself (the dense trainer re-derives features
        # from 2-D points); the loop then runs the step with the noise already applied.
        noise = self.hp["input_noise"]
        if not noise:
            return super()._train_step(xb, yb, raw)
        xb = xb + torch.randn(xb.shape, generator=self.noise_gen) * noise
        self.hp["input_noise"] = 0.0
        try:
            return super()._train_step(xb, yb, raw)
        finally:
            self.hp["input_noise"] = noise

    def set_hparams(self, **changes: Any) -> dict[str, Any]:
        """The dense trainer's live changes plus view_input: the test sequence (index, clamped
        to the split) whose hidden states, gates and answers the live views show."""
        view = changes.pop("view_input", None)
        applied = super().set_hparams(**changes) if changes else {}
        if view is not None:
            self.view_index = max(0, min(int(view), len(self.view_split) - 1))
            applied["view_input"] = self.view_index
        return applied

    @property
    def net(self) -> SeqNet:
        assert isinstance(self.model, SeqNet)
        return self.model

    # ---- the diagnostics hook (app.nn.training.probing) ----------------------------------
    probe_examples = PROBE_EXAMPLES

    def probe_trace(self, x: torch.Tensor) -> Trace:
        """Per recurrent layer r<i>: its hidden states (a row per step of each sequence) and
        its gates and candidate (r<i>.f, ...); the head's hidden layers as the dense net's."""
        net, cell = self.net, self.net.cell
        inputs, hs = layer_trace(net, x)
        # An LSTM's h = o tanh(c), a GRU's a mix of steps: no one function's flat ends.
        state_fn = cell.nonlinearity if cell.module == "RNN" else "linear"
        sites: dict[str, Site] = {}
        for i, (rnn, inp, h) in enumerate(zip(net.rnns, inputs, hs, strict=True), 1):
            sites[f"r{i}"] = Site(h.reshape(-1, h.shape[-1]), state_fn)
            with torch.no_grad():  # read, not differentiated: the gradients are the weights'
                chunks = chunk_values(net, rnn, inp, h)
            for name, v in chunks.items():
                fn = "sigmoid" if name in cell.gates else cell.nonlinearity
                sites[f"r{i}.{name}"] = Site(v.reshape(-1, v.shape[-1]), fn)
        acts, out = net.head.forward_trace(net.norms[-1](hs[-1][:, -1]))
        for name, a, layer in zip(net.head.layer_names(), acts, net.head.layer_specs, strict=False):
            sites[name] = Site(a, layer.activation)
        return Trace(sites, out)

    # ---- measurements -------------------------------------------------------------------
    def time_grads(self) -> list[float]:
        """||dL/dh_t|| per time step on the probe sequences (see measure.sequences)."""
        t = self.spec.train
        grads = time_grads(
            self.net, self.probe.x, self.probe.y, self.loss_fn, t.label_smoothing, t.huber_delta
        )
        return grads.tolist()

    def evaluation(self) -> Record:
        t = self.spec.train
        ev = evaluate_seq(
            self.net,
            self.seq_data.splits(),
            self.task,
            self.loss_fn,
            t.label_smoothing,
            t.huber_delta,
        )
        ev["layers"]["symmetry"] = []
        return {
            "kind": "eval",
            "step": self.step,
            "epoch": self.epoch,
            "lr": self.hp["lr"] * self.schedule.factor(self.step),
            **ev,
            "grad_t": [g if math.isfinite(g) else None for g in self.time_grads()],
        }

    def sequence(self, index: int | None = None) -> dict[str, Any]:
        """The live views of the chosen sequence (default: the first test sequence)."""
        i = self.view_index if index is None else max(0, min(index, len(self.view_split) - 1))
        split = self.view_split
        t = self.spec.train
        running = running_targets(self.part.dataset, split.x[i : i + 1], split.y[i : i + 1])
        return sequence_view(
            self.net,
            split,
            i,
            running,
            self.probe,
            self.task,
            self.loss_fn,
            t.label_smoothing,
            t.huber_delta,
        )

    def snapshot(self, grid_size: int | None = None, neurons: bool | None = None) -> Record:
        return {"kind": "snapshot", **live_snapshot(self, 0, False)}

    def _start_record(self) -> Record:
        data = self.seq_data
        classes = data.info.classes
        return {
            "kind": "start",
            "family": "rnn",
            "task": self.task,
            "classes": classes,
            "layers": self.net.layer_names(),
            "units": [data.info.dims]
            + [self.part.hidden] * self.part.layers
            + [layer.units for layer in self.spec.model.layers]
            + [output_width(data)],
            "sizes": {k: len(s) for k, s in data.splits().items()},
            "steps_per_epoch": self.steps_per_epoch,
            "total_steps": self.total_steps,
            "params": sum(p.numel() for p in self.model.parameters()),
            "chance_loss": math.log(classes) if self.task != "regression" else None,
            "engine": {"path": self.engine, "reason": self.engine_reason},
            "sequence": {
                "dataset": self.part.dataset,
                "length": data.length,
                "cell": self.part.cell,
                "gates": list(self.net.cell.gates),
            },
        }


def live_snapshot(trainer: Any, size: int, with_neurons: bool) -> dict[str, Any]:
    """A recurrent run's picture now (the family's live_snapshot; size and neurons do not
    apply): the chosen sequence's views."""
    started = time.perf_counter()
    view = trainer.sequence()
    return {
        "step": trainer.step,
        "epoch": trainer.epoch,
        "sequence": view,
        "probe_ms": round(1000 * (time.perf_counter() - started), 2),
    }
