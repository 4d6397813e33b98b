"""Lesson "batch-size": One example per step makes a jagged loss curve; 16 smooths it; the full
batch draws a clean line.

The claims and how they are measured: app/lessons/claims/batch_size.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "batch-size"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
