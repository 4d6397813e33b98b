"""Lesson "exploding-through-time": see app/lessons/content/ for its text.

The claims and how they are measured: app/lessons/claims/exploding_through_time.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "exploding-through-time"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
