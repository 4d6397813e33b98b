"""Lesson "nonlinearity": Three linear layers are still one straight line; three tanh layers bend
around a circle.

The claims and how they are measured: app/lessons/claims/nonlinearity.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "nonlinearity"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
