"""Lesson "augmentation": Random shifts, turns and noise on 180 training digits shrink the gap
between training and test accuracy.

The claims and how they are measured: app/lessons/claims/augmentation.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "augmentation"


def test_claims_hold_on_its_own_seed() -> None:
    """The fast sample (CNN runs on the digits take ~10 s each on the shared machine)."""
    assert_holds(SLUG, None)


@pytest.mark.slow
@pytest.mark.parametrize("seed", sample(SLUG)[1:])
def test_claims_hold_on_an_untuned_seed(seed: int) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
