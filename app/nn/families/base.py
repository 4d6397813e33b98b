"""A model family as a plug-in: everything the rest of the system asks of one.

The run layer, the CLI and the web layer never name a family's modules: they look the
spec's `family` up in app.nn.families.registry.FAMILIES and call the entry. A family's
trainer yields the engine's records (app.nn.records) and owns its model builder, its data,
and its per-step and per-snapshot measurements; its exporter writes the runnable script.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from app.nn.choices.registry import Entry
from app.nn.records import Record
from app.nn.spec.experiment import Spec


class FamilyTrainer(Protocol):
    """What the run loop drives (app.runs.kinds.run.loop); app.nn.training.Trainer is one."""

    @property
    def model(self) -> torch.nn.Module: ...
    @property
    def step(self) -> int: ...

    def records(self) -> Iterator[Record]: ...
    def snapshot(self, grid_size: int | None = None, neurons: bool | None = None) -> Record: ...
    def set_hparams(self, **changes: Any) -> dict[str, Any]: ...
    def stop(self) -> None: ...


@dataclass(frozen=True)
class Family(Entry):
    data: str = ""  # what it trains on, for people
    trainer: Callable[[Spec], FamilyTrainer] | None = None  # model + data + measurements
    export: Callable[[Spec], str] | None = None  # a runnable, readable PyTorch script
    # The live picture of a trainer (size: the view's resolution; neurons: shown or not),
    # encoded for the wire; the run loop streams it at the rate viewers consume it.
    live_snapshot: Callable[[Any, int, bool], dict[str, Any]] | None = None
    live_grid: int = 0  # the view's resolution, when the family draws a grid
    # The live views the page shows for its runs; "diagnostics" also makes the run loop
    # probe it (its trainer answers app.nn.training.probing's hook).
    views: tuple[str, ...] = ()
    # Whether the network ends in the MLP's dense layers (`spec.model.layers`): the page's
    # Network panel edits them. A transformer maps d_model to the vocabulary directly.
    dense_head: bool = True
