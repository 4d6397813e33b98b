"""Registry entries for the page's dropdowns (one source of truth: the engine registries)."""

from __future__ import annotations

from typing import Any

from app.nn.choices.cells import CELLS
from app.nn.choices.layers import ACTIVATIONS, INITS, NORMS
from app.nn.choices.losses import LOSSES
from app.nn.choices.optimizers import OPTIMIZERS
from app.nn.choices.positions import POSITIONS
from app.nn.choices.schedules import SCHEDULES
from app.nn.data.images import IMAGE_DATASETS
from app.nn.data.points import DATASETS, FEATURES
from app.nn.data.sequences import SEQ_TASKS
from app.nn.data.tokens import TASKS
from app.nn.families.registry import FAMILIES

_REGISTRIES: dict[str, Any] = {
    "datasets": DATASETS,
    "features": FEATURES,
    "activations": ACTIVATIONS,
    "norms": NORMS,
    "inits": INITS,
    "losses": LOSSES,
    "optimizers": OPTIMIZERS,
    "schedules": SCHEDULES,
    "families": FAMILIES,
    "cells": CELLS,
    "seq_tasks": SEQ_TASKS,
    "image_datasets": IMAGE_DATASETS,
    "token_tasks": TASKS,  # the transformer family's data and positional encodings
    "positions": POSITIONS,
}


def all_choices() -> dict[str, list[Any]]:
    # Read afresh each time (a few dozen entries): an entry a plug-in adds later shows too.
    return {family: registry.values() for family, registry in _REGISTRIES.items()}


def describe_choices() -> dict[str, list[dict[str, Any]]]:
    """Every family's entries: labels, help and parameter bounds (GET /api/spec/choices)."""
    return {family: registry.describe() for family, registry in _REGISTRIES.items()}


def entry_or_default(family: str, key: Any) -> Any:
    registry = _REGISTRIES[family]
    return registry[key] if isinstance(key, str) and key in registry else registry.values()[0]
