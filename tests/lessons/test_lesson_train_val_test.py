"""Lesson "train-val-test": Fit on train, choose on validation, report on test: the test split
never influences a single weight or decision.

The claims and how they are measured: app/lessons/claims/train_val_test.py."""

import pytest

from tests.lessons.holds import assert_holds, assert_spread, sample, spread

SLUG = "train-val-test"


@pytest.mark.parametrize("seed", sample(SLUG))
def test_claims_hold(seed: int | None) -> None:
    assert_holds(SLUG, seed)


@pytest.mark.slow
@spread
def test_claims_hold_over_untuned_seeds() -> None:
    assert_spread(SLUG)
