"""Lesson "vanishing-through-time": see app/lessons/content/ for its text.

The claims and how they are measured: app/lessons/claims/vanishing_through_time.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "vanishing-through-time"


# Minutes of training per seed: with the spread only (PLAYGROUND_LESSON_SPREAD=1, or
# bench/lessons.py); the default suite runs tests/lessons/test_through_time_sample.py.
@pytest.mark.slow
@spread
@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
