"""Lesson "dying-relu": An aggressive learning rate pushes ReLU units into silence, most of them
for good; leaky ReLU units always keep a gradient.

The claims and how they are measured: app/lessons/claims/dying_relu.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "dying-relu"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
