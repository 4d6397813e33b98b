"""Lesson "lr-schedules": Constant, step decay, cosine and warm-up + cosine: see the learning rate
itself, then what it does to the loss.

The claims and how they are measured: app/lessons/claims/lr_schedules.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "lr-schedules"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
