"""Lesson "overfitting": A big net memorises 80 noisy points: the validation loss turns back up. L2
or dropout keep the gap small.

The claims and how they are measured: app/lessons/claims/overfitting.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "overfitting"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
