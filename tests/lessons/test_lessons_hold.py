"""Every lesson's claims hold, checked by its checker (app/lessons/claims/<group>/<slug>.py)
on its own seed and on one untuned seed picked per lesson (tests/lessons/holds.py); the full spread
of 20 untuned seeds is slow and runs with PLAYGROUND_LESSON_SPREAD=1 (or bench/lessons.py).
A new lesson needs no test file: its JSON and its checker put it here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.lessons.registry import LESSONS
from tests.lessons.holds import assert_holds, assert_spread, sample, spread

# CNN runs on the digits (~10 s each on the shared machine): the untuned seed is slow.
SLOW_UNTUNED = {"augmentation", "weight-sharing"}
# Minutes of training per seed: with the spread only; the default suite runs
# tests/lessons/test_through_time_sample.py and test_grokking_sample.py, the same specs
# shorter or at init. Grokking: two runs of 3,200 steps per seed (~30 s quiet, minutes loaded).
MINUTES = {"gated-memory", "forget-gate-bias", "vanishing-through-time", "grokking"}


def cases() -> Iterator[Any]:
    for slug in LESSONS:
        for seed in sample(slug):
            marks: list[Any] = []
            if slug in MINUTES:
                marks = [pytest.mark.slow, spread]
            elif slug in SLOW_UNTUNED and seed is not None:
                marks = [pytest.mark.slow]
            name = f"{slug}-{'own' if seed is None else seed}"
            yield pytest.param(slug, seed, id=name, marks=marks)


@pytest.mark.parametrize(("slug", "seed"), cases())
def test_claims_hold(slug: str, seed: int | None) -> None:
    assert_holds(slug, seed)


@pytest.mark.slow
@spread
@pytest.mark.parametrize("slug", list(LESSONS))
def test_claims_hold_over_untuned_seeds(slug: str) -> None:
    assert_spread(slug)
