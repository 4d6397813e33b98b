"""Lesson "zigzag": After a sigmoid layer, all of a unit's incoming weights move in the same
direction at every step; after tanh they do not.

The claims and how they are measured: app/lessons/claims/zigzag.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "zigzag"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
