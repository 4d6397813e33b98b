"""Lesson "exploding-gradients": A deep ReLU regression whose weights start a little too large
blows up within three steps; clipping the gradient norm keeps it on track.

The claims and how they are measured: app/lessons/claims/exploding_gradients.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "exploding-gradients"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
