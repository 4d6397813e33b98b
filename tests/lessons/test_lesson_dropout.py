"""Lesson "dropout": In training, dropout silences half the units at random and doubles the rest;
in evaluation it does nothing, and on average the two agree.

The claims and how they are measured: app/lessons/claims/dropout.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "dropout"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
