"""Lesson "softmax-temperature": Divide the logits by T before the softmax: T < 1 sharpens the
predicted distribution, T > 1 flattens it, the winner stays the same.

The claims and how they are measured: app/lessons/claims/softmax_temperature.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "softmax-temperature"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
