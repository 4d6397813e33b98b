"""Lesson "init-scale": In a 6-layer net, a fixed N(0,1) init blows activations up or saturates
them; matched scales keep them O(1).

The claims and how they are measured: app/lessons/claims/init_scale.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "init-scale"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
