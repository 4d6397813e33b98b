"""Sequence-length sweeps: recurrent members that differ in T (`rnn.length`), read as "the
final test score against T, one line per model" and the first length at which each fails.

A comparison is a sweep when its members are recurrent and train at more than one length;
members with the same model apart from T form one series ("RNN (tanh)", "LSTM"). Each
member trains on its own data (the length is a data field) from the same seed.

The score is the task's own: the test MSE for regression (RMSE squared, whatever the
loss), the test accuracy for classification; chance is the best constant answer's score
(`SeqTaskInfo.chance`: 1/6 on the adding problem). A member *fails* when its score is
closer to chance than to perfect: MSE above chance / 2, accuracy below (1 + chance) / 2.

`cell_members` and `sweep_members` are the compare page's (and the CLI's) presets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from app.nn.choices.cells import CELLS
from app.nn.data.sequences import SEQ_TASKS

SWEEP_LENGTHS = (10, 25, 50, 100)
SWEEP_CELLS = ("rnn_tanh", "lstm")  # plain vs gated: 2 x 4 lengths = MAX_MEMBERS
# What the presets' members train with (the recurrent lessons' recipe: the family's default
# SGD at lr 0.03 learns none of the long tasks); a card shows it and may change it.
RECIPE: dict[str, Any] = {"optimizer": {"name": "adam", "lr": 0.01}, "batch_size": 50}
Member = dict[str, Any]


def cell_members(base: dict[str, Any]) -> list[Member]:
    """RNN (tanh) vs GRU vs LSTM on the base's task and length, from the same seed."""
    return [
        {
            **json.loads(json.dumps(RECIPE)),
            "overrides": {"rnn": {"cell": k}},
            "label": CELLS[k].label,
        }
        for k in ("rnn_tanh", "gru", "lstm")
    ]


def sweep_lengths(base: dict[str, Any], max_len: int) -> list[int]:
    """The sweep's lengths the task allows (its min_length) under the server's max T."""
    task = SEQ_TASKS[(base.get("rnn") or {}).get("dataset", "adding")]
    return [t for t in SWEEP_LENGTHS if task.min_length <= t <= max_len] or [max_len]


def sweep_members(base: dict[str, Any], max_len: int) -> list[Member]:
    """A plain and a gated cell at T = 10, 25, 50, 100: the base's own cell where it is
    one of them (a GRU base sweeps RNN vs GRU), else RNN (tanh) and LSTM."""
    own = (base.get("rnn") or {}).get("cell", "lstm")
    gated = bool(CELLS[own].gates) if own in CELLS else True
    cells = (SWEEP_CELLS[0], own) if gated else (own, SWEEP_CELLS[1])
    return [
        {
            **json.loads(json.dumps(RECIPE)),
            "overrides": {"rnn": {"cell": c, "length": t}},
            "label": f"{CELLS[c].label} T={t}",
        }
        for c in cells
        for t in sweep_lengths(base, max_len)
    ]


def describe(
    base: dict[str, Any], specs: list[dict[str, Any]], labels: list[str]
) -> dict[str, Any] | None:
    """The sweep these (resolved) member specs make, or None: {"task", "metric", "chance",
    "threshold", "lengths", "series": [{"label", "members": [[member, T], ...]}]}. Members
    equal but for T are one series, named by its first member's label without "T=..."."""
    if base["family"] != "rnn" or len({s["rnn"]["length"] for s in specs}) < 2:
        return None
    info = SEQ_TASKS[base["rnn"]["dataset"]]
    if any(s["rnn"]["dataset"] != info.key for s in specs):
        return None  # another task per member: no one chance level to read against
    series: dict[str, dict[str, Any]] = {}
    for i, (label, spec) in enumerate(zip(labels, specs, strict=True)):
        same_t = {**spec, "rnn": {**spec["rnn"], "length": 0}}
        key = json.dumps(same_t, sort_keys=True)
        if key not in series:
            name = re.sub(r"\s*\bT=\d+\b", "", label).strip()
            name = name or CELLS[spec["rnn"]["cell"]].label
            taken = sum(1 for s in series.values() if s["label"].split(" #")[0] == name)
            series[key] = {"label": f"{name} #{taken + 1}" if taken else name, "members": []}
        series[key]["members"].append([i, spec["rnn"]["length"]])
    regression = info.task == "regression"
    return {
        "task": info.key,
        "metric": "mse" if regression else "acc",
        "chance": info.chance,
        "threshold": info.chance / 2 if regression else (1 + info.chance) / 2,
        "lengths": sorted({s["rnn"]["length"] for s in specs}),
        "series": [
            {"label": s["label"], "members": sorted(s["members"], key=lambda m: m[1])}
            for s in series.values()
        ],
    }


def score(row: dict[str, Any], metric: str) -> float | None:
    """A summary row's score on its last evaluation: test, else validation, else train."""
    for split in ("test", "val", "train"):
        value = row.get(f"{split}_rmse" if metric == "mse" else f"{split}_acc")
        if isinstance(value, int | float):
            return float(value) ** 2 if metric == "mse" else float(value)
    return None


def fails(value: float, sweep: dict[str, Any]) -> bool:
    if sweep["metric"] == "mse":
        return not value <= sweep["threshold"]  # NaN (diverged) fails too
    return not value >= sweep["threshold"]


def outcome(sweep: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per series: its points [{member, length, score, fails}] (score None before the first
    evaluation) and `fails_at`, the first length whose member fails (None: none does)."""
    by_member = {r["member"]: r for r in rows}
    out = []
    for s in sweep["series"]:
        points, first = [], None
        for member, length in s["members"]:
            value = score(by_member.get(member, {}), sweep["metric"])
            bad = value is not None and fails(value, sweep)
            points.append({"member": member, "length": length, "score": value, "fails": bad})
            if bad and first is None:
                first = length
        out.append({"label": s["label"], "points": points, "fails_at": first})
    return out


# The presets of a recurrent base (the compare page's buttons, `backprop compare --preset`):
# key -> (label, members from the resolved base and the server's max T).
PRESETS: dict[str, tuple[str, Callable[[dict[str, Any], int], list[Member]]]] = {
    "cells": ("RNN vs GRU vs LSTM", lambda base, max_len: cell_members(base)),
    "length-sweep": ("Length sweep: plain vs gated at T 10-100", sweep_members),
}
