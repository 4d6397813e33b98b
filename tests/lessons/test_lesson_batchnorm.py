"""Lesson "batchnorm": A 6-layer ReLU net with SGD at lr 1 blows up or stalls; the same net with
BatchNorm trains fine.

The claims and how they are measured: app/lessons/claims/batchnorm.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "batchnorm"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
