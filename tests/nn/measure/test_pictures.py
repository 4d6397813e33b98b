"""Compact pictures: quantised to a byte per pixel, weights as float16, decoded back."""

from __future__ import annotations

import json

import numpy as np
import torch

from app.nn.measure import pictures
from app.nn.measure.metrics import grid_picture, neuron_pictures
from app.nn.spec.base import Limits
from app.nn.spec.experiment import validate_spec
from app.nn.training.trainer import Trainer


def trainer(dataset: str, layers: list[int]) -> Trainer:
    spec = validate_spec(
        {"data": {"dataset": dataset}, "model": {"layers": [{"units": u} for u in layers]}},
        Limits(),
    )
    t = Trainer(spec)
    records = t.records()
    for _ in range(30):
        next(records)
    return t


def test_boundary_weights_and_neurons_round_trip_within_their_precision() -> None:
    t = trainer("spiral", [16, 16, 16])
    snap = pictures.snapshot(t, 48, True)
    size = len(json.dumps(snap, separators=(",", ":")))
    assert size <= 8 * 1024, size  # the 3x16 net of bench/load.py, neurons included
    back = pictures.decode(snap)
    exact = grid_picture(t.model, t.data.features, t.task, 48)["values"]
    assert np.allclose(back["grid"]["values"], exact, atol=0.5 / 255 + 1e-4)  # half a step
    for mine, lin in zip(back["weights"], t.model.linears(), strict=True):
        w = lin.weight.detach().double().numpy()
        assert np.allclose(mine, w, rtol=1e-3, atol=1e-4)  # float16
    cells = back["neurons"]
    assert cells["size"] == pictures.neuron_size(16)
    ref = neuron_pictures(t.model, t.data.features, cells["size"])
    for layer, ref_layer in zip(cells["values"], ref, strict=True):
        for unit, ref_unit in zip(layer, ref_layer, strict=True):
            r = np.asarray(ref_unit)
            scaled = r / max(np.abs(r).max(), 1e-6)
            assert np.allclose(unit, scaled, atol=1 / 127 + 2e-3)


def test_multiclass_and_regression_grids() -> None:
    t = trainer("blobs", [8])
    back = pictures.decode({"grid": pictures.boundary(t.model, t.data.features, t.task, 16)})
    exact = grid_picture(t.model, t.data.features, t.task, 16)
    assert back["grid"]["values"] == exact["values"]  # classes exactly
    r = trainer("plane", [8])
    g = pictures.boundary(r.model, r.data.features, r.task, 16)
    exact_r = np.asarray(grid_picture(r.model, r.data.features, r.task, 16)["values"])
    step = (g["hi"] - g["lo"]) / 255
    assert np.allclose(pictures.decode({"grid": g})["grid"]["values"], exact_r, atol=step)


def test_non_finite_outputs_do_not_break_the_bytes() -> None:
    q = pictures._quantise(torch.tensor([0.0, float("nan"), float("inf"), 1.0]), 0.0, 1.0)
    assert list(np.frombuffer(__import__("base64").b64decode(q), dtype="u1")) == [0, 128, 255, 255]
