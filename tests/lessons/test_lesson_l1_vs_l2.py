"""Lesson "l1-vs-l2": Same net, same penalty strength: L1 drives most weights to (almost) exactly
zero, L2 shrinks them all a little.

The claims and how they are measured: app/lessons/claims/l1_vs_l2.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "l1-vs-l2"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
