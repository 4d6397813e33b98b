"""Lesson "vanishing-gradients": Six sigmoid layers pass back almost no gradient to the first
layer; ReLU passes it through.

The claims and how they are measured: app/lessons/claims/vanishing_gradients.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "vanishing-gradients"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
