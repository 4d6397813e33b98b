"""Worker-side artifacts: the bounded weight trajectory, weights and landscape requests
answered between steps, and the final weights sent before the terminal status."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import torch

from app.nn.diagnose.landscape import linears
from app.nn.spec.experiment import validate_spec
from app.nn.training.trainer import Trainer
from app.runs.kinds.run.artifacts import MIN_SAMPLES, Trajectory, landscape, load
from app.runs.kinds.run.loop import RunLoop
from tests.runs.kinds.test_run_loop import SMALL, ScriptedChannel, job


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """One torch thread, as in a worker (the same summation order), for this module only."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def artifacts(chan: ScriptedChannel) -> list[tuple[dict, bytes]]:  # type: ignore[type-arg]
    return [(meta, data) for meta, data in chan.sent if meta["kind"] == "artifact"]


def train_loss(spec: dict, state: dict) -> float:  # type: ignore[type-arg]
    trainer = Trainer(validate_spec(spec))
    trainer.model.load_state_dict(state)
    return float(trainer.evaluation()["train"]["loss"])


def test_trajectory_is_evenly_spaced_and_bounded_by_points_and_bytes() -> None:
    trainer = Trainer(validate_spec(SMALL))  # 100 steps
    traj = Trajectory(trainer.model, trainer.total_steps, max_points=11, max_bytes=10**9)
    for step in range(1, trainer.total_steps + 1):
        traj.record(step)
    assert traj.stride == 10 and traj.steps == list(range(0, 101, 10))
    size = sum(lin.weight.numel() for lin in linears(trainer.model))
    assert traj.rows[0].shape == (size,)
    # A byte budget for 4 snapshots wins over the point cap.
    small = Trajectory(trainer.model, trainer.total_steps, max_points=200, max_bytes=4 * 4 * size)
    for step in range(1, trainer.total_steps + 1):
        small.record(step)
    assert small.cap == 4 and len(small.rows) <= 4
    steps, weights = small.with_current(100)
    assert steps[-1] == 100 and len(steps) <= 4 and weights.shape == (len(steps), size)


def test_final_weights_and_trajectory_precede_the_terminal_status() -> None:
    chan = ScriptedChannel([])
    RunLoop(job(SMALL), chan).run()  # type: ignore[arg-type]
    kinds = [(m["kind"], m.get("name") or m.get("type")) for m, _ in chan.sent]
    end = max(i for i, k in enumerate(kinds) if k == ("event", "status"))
    assert kinds[end - 2 : end] == [("artifact", "weights"), ("artifact", "trajectory")]
    (weights_meta, weights), (_, trajectory) = artifacts(chan)
    assert weights_meta["final"] and weights_meta["step"] == 100 and weights_meta["id"] is None
    final = chan.events()[-1]["summary"]["final"]
    assert train_loss(SMALL, load(weights)) == pytest.approx(final["train_loss"], abs=1e-6)
    saved = load(trajectory)
    assert saved["steps"][0] == 0 and saved["steps"][-1] == 100
    assert saved["weights"].shape[0] == len(saved["steps"])


def test_weights_and_landscape_requests_are_answered_while_paused() -> None:
    script = [
        [{"op": "step", "n": 3, "run_id": "r1"}],
        [{"op": "landscape", "id": 7, "run_id": "r1", "options": {"steps": 5, "seed": 1}}],
        [{"op": "landscape", "id": 8, "run_id": "r1", "options": {"span": -1}}],  # refused
        [{"op": "weights", "id": 9, "run_id": "r1"}],
        [{"op": "stop", "run_id": "r1"}],
    ]
    chan = ScriptedChannel(script)
    RunLoop(job(SMALL, paused=True), chan).run()  # type: ignore[arg-type]
    replies = {m["id"]: (m, d) for m, d in artifacts(chan) if m["id"] is not None}
    meta, data = replies[7]
    assert meta["ok"] and meta["step"] == 3
    result = json.loads(data)
    assert len(result["surface"]["alphas"]) == 5 and result["step"] == 3
    assert result["trajectory"]["steps"] == [0, 1, 2, 3]
    assert result["trajectory"]["alphas"][-1] == pytest.approx(0, abs=1e-9)
    assert not replies[8][0]["ok"] and "span" in replies[8][0]["error"]
    weights_meta, weights = replies[9]
    assert weights_meta["ok"] and weights_meta["step"] == 3
    # The landscape's centre is the training loss of exactly the weights sent.
    assert result["centre_loss"] == pytest.approx(train_loss(SMALL, load(weights)), abs=1e-6)
    assert chan.events()[-1]["status"] == "stopped"  # the refused request did not end the run


def test_a_big_net_gets_fewer_landscape_samples() -> None:
    trainer = Trainer(validate_spec({"data": {"samples": 400}}))  # 200 training points
    params = sum(p.numel() for p in trainer.model.parameters())
    options = {"steps": 3, "steps_1d": 3, "max_samples": 1000}
    assert landscape(trainer, [], None, options)["samples"] == 200
    capped = landscape(trainer, [], None, {**options, "max_work": params * 120})
    assert capped["samples"] == 120 and capped["trajectory"] is None
    floor = landscape(trainer, [], None, {**options, "max_work": 1})
    assert floor["samples"] == MIN_SAMPLES
