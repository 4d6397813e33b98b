"""Lesson "universal-approximation": Fit a sine wave with one tanh layer of 2, 8 and 32 units: more
units, closer fit.

The claims and how they are measured: app/lessons/claims/universal_approximation.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "universal-approximation"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
