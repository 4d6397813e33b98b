"""Lesson tests assert the lesson's claims with its checker (app/lessons/claims/), the code
bench/lessons.py counts with.

Default run: the seed the lesson page opens with (its own) and one untuned seed, picked per
lesson so that the suite as a whole samples the spread. The full spread (20 untuned seeds,
each claim on at least the share its text promises) is marked slow and runs only with
PLAYGROUND_LESSON_SPREAD=1: it is what bench/lessons.py measures, minutes of CPU.
"""

from __future__ import annotations

import math
import os
import zlib

import pytest

from app.lessons.claims import DEFAULT_SHARE, UNTUNED, check, claims

spread = pytest.mark.skipif(
    os.environ.get("PLAYGROUND_LESSON_SPREAD") != "1",
    reason="the full seed spread: set PLAYGROUND_LESSON_SPREAD=1 (or run bench/lessons.py)",
)


def sample(slug: str) -> list[int | None]:
    """The lesson's own seed (None) and one untuned seed chosen by the slug."""
    return [None, UNTUNED[zlib.crc32(slug.encode()) % len(UNTUNED)]]


def assert_holds(slug: str, seed: int | None) -> None:
    """Every claim the text states as always true holds on this seed. Claims the text
    qualifies ("on most seeds") are left to the spread test."""
    results = check(slug, seed)
    strict = {c.key for c in claims(slug) if c.share >= DEFAULT_SHARE}
    failed = {k: o.value for k, o in results.items() if k in strict and not o.held}
    assert not failed, f"{slug} on seed {seed}: {failed}"


def assert_spread(slug: str) -> None:
    results = [check(slug, seed) for seed in UNTUNED]
    short = {}
    for claim in claims(slug):
        held = sum(r[claim.key].held for r in results)
        if held < math.ceil(claim.share * len(UNTUNED)):
            short[claim.key] = f"{held}/{len(UNTUNED)}"
    assert not short, f"{slug}: {short}"
