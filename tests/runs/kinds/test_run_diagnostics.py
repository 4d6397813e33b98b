"""The diagnostics panel's frames as the worker sends them, checked against numpy.

The run loop runs in-process with a scripted channel; afterwards its trainer holds the exact
final weights, from which numpy recomputes what the final snapshot's diagnostics claim:
activations and their percentiles, weight gradients by a hand-written backward pass, the
symmetry meter, the loss and the logits grid of the temperature view.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import torch

from app.runs.kinds.run.loop import RunLoop
from tests.runs.kinds.test_run_loop import ScriptedChannel, job

PCTS = [5, 25, 50, 75, 95]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """As in a worker: tiny nets only lose from a second thread (and on a busy machine a
    second one makes every probe 10x slower). Restored afterwards for other modules."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run_loop(spec: dict[str, Any], **options: float) -> tuple[RunLoop, list[dict[str, Any]]]:
    j = job(spec)
    j["options"].update(options)
    chan = ScriptedChannel([])
    loop = RunLoop(j, chan)  # type: ignore[arg-type]
    loop.run()
    return loop, chan.events()


def diagnostics_snapshots(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "snapshot" and "diagnostics" in e]


def params(loop: RunLoop) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (w.detach().double().numpy(), b.detach().double().numpy())
        for w, b in zip(loop.trainer.weights, loop.trainer.biases, strict=True)
    ]


def close(a: float, b: float, rel: float = 1e-3, abs_: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b)) + abs_


def test_diagnostics_ride_on_snapshots_at_most_at_their_rate() -> None:
    spec = {
        "data": {"samples": 100},
        "train": {"epochs": 200},  # 1000 steps
        "stream": {"grid_size": 16, "neuron_grids": False},  # cheap pictures, many of them
    }
    run_loop({"data": {"samples": 100}, "train": {"epochs": 1}})  # imports out of the clock
    started = time.perf_counter()
    _, events = run_loop(spec, snapshot_rate=50.0, snapshot_idle_rate=50.0, diagnostics_rate=4.0)
    seconds = time.perf_counter() - started
    snaps = [e for e in events if e["type"] == "snapshot"]
    with_diag = diagnostics_snapshots(events)
    # The first picture (step 0) and the final one always carry diagnostics ...
    assert with_diag[0]["step"] == 0 and snaps[0]["step"] == 0  # picture first, then panel
    assert events[-2] is snaps[-1] and "diagnostics" in snaps[-1]
    # ... in between, at most diagnostics_rate per second of wall time.
    assert len(with_diag) <= 4.0 * seconds + 2, (len(with_diag), seconds)
    assert len(snaps) > len(with_diag), "diagnostics should be rarer than pictures"
    # Ordered by step, and every frame is strict JSON with the documented parts.
    steps = [s["diagnostics"]["step"] for s in with_diag]
    assert steps == sorted(steps)
    frame = with_diag[-1]["diagnostics"]
    assert {"step", "epoch", "loss", "layers", "output", "loss_at_init", "flags", "logits"} <= set(
        frame
    )


def numpy_forward(x: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """tanh hidden layers, linear output: [h1, ..., z]."""
    outs, h = [], x
    for i, (w, b) in enumerate(layers):
        pre = h @ w.T + b
        h = pre if i == len(layers) - 1 else np.tanh(pre)
        outs.append(h)
    return outs


def test_final_diagnostics_match_numpy_on_the_same_weights() -> None:
    spec = {
        "seed": 3,
        "data": {"dataset": "circle", "samples": 120},
        "model": {
            "layers": [{"units": 6, "activation": "tanh"}, {"units": 4, "activation": "tanh"}]
        },
        "train": {"optimizer": {"name": "adam", "lr": 0.02}, "epochs": 8},
    }
    loop, events = run_loop(spec)
    diag = diagnostics_snapshots(events)[-1]["diagnostics"]
    assert diag["step"] == loop.trainer.step == 8 * 6
    start = next(e for e in events if e["type"] == "start")
    x = np.asarray(start["points"]["train"]["x"], dtype=np.float64)
    y = np.asarray(start["points"]["train"]["y"], dtype=np.float64)[:, None]
    layers = params(loop)
    h1, h2, z = numpy_forward(x, layers)
    n = len(x)

    # Loss: mean binary cross-entropy on the logits.
    loss = np.mean(np.logaddexp(0, z) - y * z)
    assert close(diag["loss"], float(loss))
    # Backward by hand: dL/dz = (sigmoid(z) - y) / n, then through tanh' = 1 - h^2.
    dz = (1 / (1 + np.exp(-z)) - y) / n
    g3 = dz.T @ h2
    d2 = (dz @ layers[2][0]) * (1 - h2**2)
    g2 = d2.T @ h1
    d1 = (d2 @ layers[1][0]) * (1 - h1**2)
    g1 = d1.T @ x

    for layer, acts, grad, (w, _) in zip(
        diag["layers"], [h1, h2], [g1, g2], layers[:2], strict=True
    ):
        assert layer["units"] == acts.shape[1]
        a = layer["activation"]
        for q, want in zip(PCTS, np.percentile(acts, PCTS), strict=True):
            assert close(a["bands"][f"p{q}"], float(want), abs_=1e-4), (layer["name"], q)
        assert sum(a["counts"]) == acts.size and a["nonfinite"] == 0
        assert close(a["edges"][0], acts.min()) and close(a["edges"][-1], acts.max())
        # the counts are a histogram of those activations over those edges
        counts, _ = np.histogram(acts, bins=np.asarray(a["edges"]))
        assert np.abs(counts - np.asarray(a["counts"])).sum() <= 2  # edge rounding only
        assert close(a["mean"], float(acts.mean()), abs_=1e-4)
        g = layer["gradient"]
        scale = float(np.abs(grad).max())
        for q, want in zip(PCTS, np.percentile(grad, PCTS), strict=True):
            assert abs(g["bands"][f"p{q}"] - float(want)) <= 1e-3 * scale, (layer["name"], q)
        assert close(layer["grad_norm"], float(np.linalg.norm(grad)))
        # symmetry: mean off-diagonal cosine similarity of the incoming weight rows
        unit = w / np.linalg.norm(w, axis=1, keepdims=True)
        cos = unit @ unit.T
        k = len(w)
        assert close(layer["symmetry"], float((cos.sum() - k) / (k * (k - 1))), abs_=1e-4)
        assert layer["dead"] == 0.0  # tanh units are never exactly zero everywhere
    assert close(diag["output"]["grad_norm"], float(np.linalg.norm(g3)))
    ratio = diag["layers"][0]["grad_norm"] / diag["output"]["grad_norm"]
    assert close(diag["layers"][0]["grad_ratio"], ratio, rel=2e-3)

    # Loss at init: the first evaluation's train loss against log 2.
    first = next(e for e in events if e["type"] == "metrics")
    init = diag["loss_at_init"]
    assert close(init["actual"], first["eval"]["train"]["loss"])
    assert close(init["expected"], math.log(2))

    # The temperature view's logits grid: the model on a 25 x 25 grid over [-6, 6]^2.
    grid = diag["logits"]
    assert grid["size"] == 25 and grid["binary"] and grid["classes"] == 2
    axis = np.linspace(-6, 6, 25)
    yy, xx = np.meshgrid(axis, axis, indexing="ij")
    nodes = np.stack([xx.ravel(), yy.ravel()], 1)  # row-major, y slowest
    want_z = numpy_forward(nodes, layers)[-1]
    got_z = np.asarray(grid["values"], dtype=np.float64)
    assert got_z.shape == (625, 1)
    assert np.allclose(got_z, want_z, rtol=1e-3, atol=1e-4)


def test_zero_init_keeps_the_symmetry_meter_at_one() -> None:
    base = {
        "seed": 0,
        "data": {"samples": 100},
        "model": {
            "layers": [{"units": 8, "activation": "sigmoid"}, {"units": 8, "activation": "sigmoid"}]
        },
        "train": {"optimizer": {"name": "momentum", "lr": 0.3}, "epochs": 6},
    }
    _, zeros = run_loop({**base, "model": {**base["model"], "init": "zeros"}})
    _, xavier = run_loop(base)
    for snap in diagnostics_snapshots(zeros)[1:]:  # after training steps, not only at init
        assert [layer["symmetry"] for layer in snap["diagnostics"]["layers"]] == [1.0, 1.0]
    final = diagnostics_snapshots(xavier)[-1]["diagnostics"]
    assert all(layer["symmetry"] < 0.9 for layer in final["layers"])


def test_multiclass_logits_and_regression_without_them() -> None:
    blobs = {
        "data": {"dataset": "blobs", "samples": 150},
        "model": {"layers": [{"units": 5, "activation": "relu"}]},
        "train": {"epochs": 3},
    }
    _, events = run_loop(blobs)
    diag = diagnostics_snapshots(events)[-1]["diagnostics"]
    grid = diag["logits"]
    assert not grid["binary"] and grid["classes"] == 3
    assert len(grid["values"]) == 625 and {len(v) for v in grid["values"]} == {3}
    assert close(diag["loss_at_init"]["expected"], math.log(3))

    plane = {"data": {"dataset": "plane", "samples": 100}, "train": {"epochs": 3}}
    _, events = run_loop(plane)
    diag = diagnostics_snapshots(events)[-1]["diagnostics"]
    assert diag["logits"] is None and diag["loss_at_init"]["expected"] is None
    assert len(diag["layers"]) == 2 and "error" not in diag


def test_a_diverging_run_still_gets_strict_json_diagnostics() -> None:
    spec = {"data": {"dataset": "plane", "samples": 100}, "train": {"optimizer": {"lr": 10.0}}}
    _, events = run_loop(spec)
    assert events[-1]["status"] == "diverged"
    diag = diagnostics_snapshots(events)[-1]["diagnostics"]
    json.dumps(diag, allow_nan=False)  # non-finite numbers are null, never NaN
    assert "error" not in diag and diag["layers"]


def test_a_failing_probe_never_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.nn.diagnose.panel as panel

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("probe exploded")

    monkeypatch.setattr(panel, "diagnostics_frame", broken)
    _, events = run_loop({"data": {"samples": 100}, "train": {"epochs": 2}})
    assert events[-1]["status"] == "finished"
    diag = diagnostics_snapshots(events)[-1]["diagnostics"]
    assert diag["error"] == "RuntimeError: probe exploded"


RNN_SPEC = {
    "family": "rnn",
    "rnn": {"dataset": "parity", "length": 6, "samples": 60, "hidden": 5},
    "train": {"epochs": 2},
}


def test_every_family_frame_is_whole_and_a_family_without_the_panel_is_never_probed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import app.nn.diagnose.panel as panel
    import app.runs.kinds.run.loop as loop_module

    _, events = run_loop(RNN_SPEC)
    frames = [s["diagnostics"] for s in diagnostics_snapshots(events)]
    assert frames and all("error" not in f and f["layers"] for f in frames)
    # A family whose page shows no panel: no probe (it used to fail every interval, an
    # AttributeError carried as the frame's "error"), no frame, one first picture.
    calls: list[int] = []
    monkeypatch.setattr(panel, "diagnostics_frame", lambda *a, **k: calls.append(1) or {})
    keys = loop_module.FAMILIES.keys()
    entries = {key: loop_module.FAMILIES[key] for key in keys}
    entries["rnn"] = replace(entries["rnn"], views=("sequence", "charts"))
    monkeypatch.setattr(loop_module, "FAMILIES", entries)
    _, events = run_loop(RNN_SPEC)
    assert events[-1]["status"] == "finished"
    assert not diagnostics_snapshots(events) and not calls
    assert [e["step"] for e in events if e["type"] == "snapshot"].count(0) == 1
