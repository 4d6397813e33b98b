"""Lesson "layernorm-vs-batchnorm": With two samples per batch, BatchNorm's statistics are noise
and it learns nothing; LayerNorm does not care about the batch.

The claims and how they are measured: app/lessons/claims/layernorm_vs_batchnorm.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "layernorm-vs-batchnorm"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
