"""Lesson "positional-encoding": without positions a transformer cannot reverse; with them it
can, and one head reads the mirrored position.

The claims and how they are measured: app/lessons/claims/positional_encoding.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "positional-encoding"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
