"""Lesson "learning-rate": The same net with SGD at lr 1e-5, 0.03 and 10: one crawls, one learns,
one blows up.

The claims and how they are measured: app/lessons/claims/learning_rate.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "learning-rate"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
