"""Lesson "adamw": Under SGD an L2 penalty and weight decay are the same update; under Adam they
are not, and the weight norms show it.

The claims and how they are measured: app/lessons/claims/adamw.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "adamw"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
