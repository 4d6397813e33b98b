"""Lesson "momentum": On an ill-conditioned loss, SGD creeps along the valley floor; momentum and
Nesterov build up speed and arrive.

The claims and how they are measured: app/lessons/claims/momentum.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "momentum"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
