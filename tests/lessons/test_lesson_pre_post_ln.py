"""Lesson "pre-post-ln": At a learning rate high for a transformer, the post-LN model stays
at chance while the pre-LN one, identical but for where its LayerNorms sit, reverses.

The claims and how they are measured: app/lessons/claims/pre_post_ln.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "pre-post-ln"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
