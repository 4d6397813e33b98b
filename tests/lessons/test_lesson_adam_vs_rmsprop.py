"""Lesson "adam-vs-rmsprop": From the same start, RMSProp's first steps are ten times its learning
rate; Adam's bias-corrected steps are exactly its learning rate.

The claims and how they are measured: app/lessons/claims/adam_vs_rmsprop.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "adam-vs-rmsprop"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
