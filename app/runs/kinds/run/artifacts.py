"""Worker-side artifacts of a run: its weights, a bounded weight trajectory, and the loss
landscape of its current weights, answered between two optimizer steps.

Worker -> web frames of kind "artifact": meta `{"kind": "artifact", "run_id", "name",
"id", "step", "ok", "error"?, "final"?}` + data bytes. `id` echoes a request's id (None for
what the worker sends unasked); `final` marks the end-of-run weights and trajectory, which
the web process stores. Requests are control messages `{"op": "weights" | "landscape",
"id", ...}` like pause or step, so any executor that relays control messages and artifact
frames supports them.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any, Protocol

import torch

from app.nn.diagnose.landscape import landscape_for, linears

OPS = ("weights", "landscape")
LANDSCAPE_OPTIONS = ("steps", "steps_1d", "span", "seed", "max_steps", "max_samples")
MIN_SAMPLES = 50  # however big the net, a landscape evaluates at least this many points


class Sender(Protocol):
    def send(self, meta: dict[str, Any], data: bytes = b"") -> None: ...


class Trajectory:
    """Evenly spaced snapshots of the Linear weights along a run (float32), at most
    `max_points` and `max_bytes`: the path a landscape projects onto its plane."""

    def __init__(
        self, model: torch.nn.Module, total_steps: int, max_points: int, max_bytes: int
    ) -> None:
        self.layers = linears(model)
        self.size = sum(lin.weight.numel() for lin in self.layers)
        self.cap = max(2, min(max_points, max_bytes // max(1, 4 * self.size)))
        self.stride = max(1, math.ceil(max(1, total_steps) / (self.cap - 1)))
        self.steps: list[int] = []
        self.rows: list[torch.Tensor] = []
        self.record(0)

    def current(self) -> torch.Tensor:
        return torch.cat([lin.weight.detach().reshape(-1) for lin in self.layers]).float()

    def record(self, step: int) -> None:
        """Call after each optimizer step; keeps one snapshot every `stride` steps."""
        if step % self.stride or (self.steps and self.steps[-1] == step):
            return
        self.steps.append(step)
        self.rows.append(self.current())
        if len(self.rows) > self.cap:  # more steps than planned (cannot happen, but bounded)
            self.stride *= 2
            kept = [i for i, s in enumerate(self.steps) if s % self.stride == 0]
            self.steps = [self.steps[i] for i in kept]
            self.rows = [self.rows[i] for i in kept]

    def with_current(self, step: int) -> tuple[list[int], torch.Tensor]:
        """(steps, [n, size] weights) ending with the current weights."""
        steps, rows = list(self.steps), list(self.rows)
        if not steps or steps[-1] != step:
            steps.append(step)
            rows.append(self.current())
        if len(rows) > self.cap:  # the current point replaces the newest regular one
            del steps[-2], rows[-2]
        return steps, torch.stack(rows)

    def to_bytes(self, step: int) -> bytes:
        steps, weights = self.with_current(step)
        return save({"steps": steps, "weights": weights})


def save(obj: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def load(data: bytes) -> Any:
    return torch.load(io.BytesIO(data), weights_only=True)


def split_rows(model: torch.nn.Module, weights: torch.Tensor) -> list[dict[str, Any]]:
    """Trajectory rows as the landscape module's {"weights": [per-Linear tensors]} items."""
    shapes = [lin.weight.shape for lin in linears(model)]
    sizes = [s.numel() for s in shapes]
    return [
        {"weights": [p.reshape(s) for p, s in zip(row.split(sizes), shapes, strict=True)]}
        for row in weights
    ]


def landscape(
    trainer: Any, steps: list[int], weights: torch.Tensor | None, options: dict[str, Any]
) -> dict[str, Any]:
    """The landscape of a trainer's current weights with the trajectory projected on it."""
    opts = {k: options[k] for k in LANDSCAPE_OPTIONS if k in options}
    if "max_work" in options:  # a big net gets fewer samples: params x samples per loss
        params = sum(p.numel() for p in trainer.model.parameters())
        fit = max(MIN_SAMPLES, int(options["max_work"]) // max(1, params))
        opts["max_samples"] = min(int(opts.get("max_samples", fit)), fit)
    max_points = int(options.get("max_trajectory", 200))
    if weights is not None and len(steps) > max_points >= 2:  # keep both ends, evenly
        picks = sorted({round(i * (len(steps) - 1) / (max_points - 1)) for i in range(max_points)})
        steps, weights = [steps[i] for i in picks], weights[picks]
    rows = split_rows(trainer.model, weights) if weights is not None else None
    result = landscape_for(trainer, trajectory=rows, max_trajectory=max(2, max_points), **opts)
    if result["trajectory"] is not None:
        result["trajectory"]["steps"] = steps
    result["step"] = trainer.step
    return result


def answer(trainer: Any, trajectory: Trajectory | None, msg: dict[str, Any], out: Sender) -> None:
    """Reply to a weights or landscape request with an artifact frame."""
    op = msg.get("op")
    meta: dict[str, Any] = {
        "kind": "artifact",
        "run_id": msg.get("run_id"),
        "name": op,
        "id": msg.get("id"),
        "step": trainer.step,
    }
    try:
        if op == "weights":
            data = save(trainer.model.state_dict())
        else:
            steps, weights = trajectory.with_current(trainer.step) if trajectory else ([], None)
            result = landscape(trainer, steps, weights, msg.get("options") or {})
            data = json.dumps(result, allow_nan=False).encode()
    except Exception as exc:  # a bad request must not end the run
        out.send({**meta, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return
    out.send({**meta, "ok": True}, data)


def send_final(trainer: Any, trajectory: Trajectory | None, run_id: str, out: Sender) -> None:
    """The end-of-run weights (and trajectory), sent before the terminal status."""
    base = {"kind": "artifact", "run_id": run_id, "id": None, "step": trainer.step, "ok": True}
    out.send({**base, "name": "weights", "final": True}, save(trainer.model.state_dict()))
    if trajectory is not None:
        out.send({**base, "name": "trajectory", "final": True}, trajectory.to_bytes(trainer.step))


def trajectory_for(trainer: Any, options: dict[str, Any]) -> Trajectory:
    return Trajectory(
        trainer.model,
        trainer.total_steps,
        int(options.get("trajectory_points", 200)),
        int(options.get("trajectory_bytes", 4_000_000)),
    )
