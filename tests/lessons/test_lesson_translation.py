"""Lesson "translation": Trained on centred shapes, a CNN with global pooling still knows them when
they move; a dense network does not.

The claims and how they are measured: app/lessons/claims/translation.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "translation"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
