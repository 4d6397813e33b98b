"""Lesson "residual": A 6-layer tanh net stalls at the coin-flip loss; with skip connections the
gradient reaches every layer and the loss falls.

The claims and how they are measured: app/lessons/claims/residual.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "residual"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
