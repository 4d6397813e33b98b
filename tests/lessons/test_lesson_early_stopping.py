"""Lesson "early-stopping": Stop when the validation loss has not improved for 10 epochs, and roll
back to the epoch where it was best.

The claims and how they are measured: app/lessons/claims/early_stopping.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "early-stopping"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
