"""Concept 9: on an ill-conditioned problem momentum (and Nesterov) reach a loss target in far
fewer steps than plain SGD at the same learning rate."""

import pytest

from tests.lessons.runner import run_lesson

TARGET = 0.1


def steps_to(losses: list[float], target: float) -> int | None:
    return next((i + 1 for i, loss in enumerate(losses) if loss < target), None)


def measure(seed: int | None = None) -> dict[str, dict]:
    out = {}
    for label, run in run_lesson("momentum", seed).items():
        losses = run.losses()  # full-batch steps: each is the training loss
        out[label] = {
            "status": run.end["status"],
            "steps_to_target": steps_to(losses, TARGET),
            "final": losses[-1],
        }
    return out


@pytest.mark.parametrize("seed", [None, 1])
def test_momentum_reaches_the_target_sgd_crawls(seed: int | None) -> None:
    m = measure(seed)
    # Seeds 0-9: SGD never gets below 1.52 in 300 steps; momentum and Nesterov reach 0.1 at
    # step 217-262 and end at 0.026-0.063 (SGD/momentum final loss >= 24x).
    assert all(v["status"] == "finished" for v in m.values())
    assert m["SGD"]["steps_to_target"] is None
    for fast in ("momentum", "Nesterov"):
        steps = m[fast]["steps_to_target"]
        assert steps is not None and steps <= 280
        assert m["SGD"]["final"] > 10 * m[fast]["final"]
