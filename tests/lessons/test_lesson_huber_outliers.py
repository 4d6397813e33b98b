"""Lesson "huber-outliers": Fit a sine where 15 % of the points are lifted far above it: MSE bends
towards them, Huber follows the sine.

The claims and how they are measured: app/lessons/claims/huber_outliers.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "huber-outliers"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
