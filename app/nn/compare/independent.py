"""Members that differ in more than a Comparison can vary: one Trainer each, taken in turn.

Same interface as `Comparison` (records tagged with "member", start records with "label" and
"mode", a last "summary" record; stop, set_hparams, snapshot, summary, network), so the run
service drives both alike. Each member builds its own data and network from its own spec;
with the base's seed they share the data and, where shapes and init agree, the initial
weights. Members advance by progress (the one least far along goes next) and each keeps its
own global-RNG stream (dropout), as in the sequential comparison mode.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import torch

from app.nn.compare.lockstep import Tracker
from app.nn.compare.spec import ComparisonSpec
from app.nn.models.mlp import Network
from app.nn.records import Record
from app.nn.spec.experiment import Spec
from app.nn.training.trainer import Trainer


class IndependentComparison:
    mode = "independent"

    def __init__(
        self,
        spec: ComparisonSpec,
        specs: list[Spec],
        labels: list[str],
        reason: str = "",
        make: Callable[[Spec], Any] | None = None,
    ) -> None:
        self.spec, self.specs, self.labels = spec, specs, labels
        self.mode_reason = reason or "each member trains its own network"
        self.trainers: list[Any] = [(make or Trainer)(s) for s in specs]
        self.groups: list[Any] = []  # (Comparison's batched groups: none here)
        models = [t.model for t in self.trainers]
        self.params = [sum(p.numel() for p in m.parameters()) for m in models]
        self.initial = [initial_weights(models[0], m) for m in models]
        self.tracker = Tracker(spec, specs, labels, self.params, self.initial)
        self.started = time.perf_counter()

    def stop(self, member: int | None = None) -> None:
        for i, t in enumerate(self.trainers):
            if member is None or member == i:
                t.stop()

    def set_hparams(self, member: int, **changes: Any) -> dict[str, Any]:
        return self.trainers[member].set_hparams(**changes)

    def network(self, member: int) -> Network:
        return self.trainers[member].model

    def summary(self) -> list[Record]:
        return self.tracker.table()

    def snapshot(
        self, member: int, grid_size: int | None = None, neurons: bool | None = None
    ) -> Record:
        return {**self.trainers[member].snapshot(grid_size, neurons), "member": member}

    def records(self) -> Iterator[Record]:
        for rec in self._interleaved():
            self.tracker.observe(rec)
            yield rec
        yield {
            "kind": "summary",
            "mode": self.mode,
            "members": self.summary(),
            "seconds": time.perf_counter() - self.started,
        }

    def _interleaved(self) -> Iterator[Record]:
        gens = {i: t.records() for i, t in enumerate(self.trainers)}
        rng = {i: torch.get_rng_state() for i in gens}
        spent = dict.fromkeys(gens, 0.0)
        outside = torch.get_rng_state()
        taken = dict.fromkeys(gens, 0)  # at equal progress the member behind in records
        while gens:  # goes first: every member starts and evaluates before anyone steps
            i = min(
                gens, key=lambda k: (self.trainers[k].step / self.trainers[k].total_steps, taken[k])
            )
            taken[i] += 1
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
            rec["member"] = i
            if rec["kind"] == "start":
                rec.update(label=self.labels[i], mode=self.mode, initial_weights=self.initial[i])
            elif rec["kind"] == "end":
                rec["seconds"] = spent[i]
            torch.set_rng_state(outside)
            yield rec
            outside = torch.get_rng_state()
        torch.set_rng_state(outside)


def initial_weights(first: torch.nn.Module, model: torch.nn.Module) -> str:
    """ "shared" when `model` starts from exactly the first member's weights (same names,
    shapes and values: same seed, same layers), else "independent" (another architecture
    draws its own, from the same seed)."""
    a, b = first.state_dict(), model.state_dict()
    same = a.keys() == b.keys() and all(
        a[k].shape == b[k].shape and torch.equal(a[k], b[k]) for k in a
    )
    return "shared" if same else "independent"
