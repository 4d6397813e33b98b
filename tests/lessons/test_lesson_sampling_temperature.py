"""Lesson "sampling-temperature": greedy continuations of a learnt text repeat themselves;
variety and next-character entropy rise with the temperature.

The claims and how they are measured: app/lessons/claims/sampling_temperature.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "sampling-temperature"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
