"""What each lesson claims, and code that checks it on any seed.

One checker module per lesson (`app/lessons/claims/<group>/<slug_with_underscores>.py`, a
folder per feature: networks, training and generalisation for the fully-connected lessons,
then images, sequences, attention), used by both
tests/lessons/test_lessons_hold.py (every lesson, no test file of its own) and
`bench/lessons.py`, so the bench counts exactly what the tests assert. A checker module
defines:

- `CLAIMS`: the claims, each tied to the sentence of the lesson's "what you will see" text
  that states it (so a test can require every factual sentence to be checked);
- `measure(seed) -> dict`: runs the lesson (only the seed changes) and measures;
- `verdict(m) -> dict[str, Outcome]`: one outcome per claim, from the measurements.

A claim holds on at least `share` of the untuned seeds (19 of 20 by default); a lesson whose
text says "on most seeds" states a lower share for that claim, and the text says how often.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any

# Seeds no lesson was tuned on (lessons are written against seed 0); the bench's default.
UNTUNED = tuple(range(1000, 1020))
DEFAULT_SHARE = 0.95  # "holds on any seed": 19 of 20


@dataclass(frozen=True)
class Claim:
    key: str
    sentence: int  # index of the "what you will see" sentence it checks
    text: str  # what is measured, in a few words (the bench prints it)
    share: float = DEFAULT_SHARE  # of untuned seeds on which it must hold


@dataclass(frozen=True)
class Outcome:
    held: bool
    value: str  # the measured number(s) that decided it


def outcome(held: bool, fmt: str, *args: Any) -> Outcome:
    return Outcome(bool(held), fmt.format(*args))


# Checkers in folders of a feature each: the fully-connected lessons by what they teach
# (as the gallery's sections go), the other families one folder each.
GROUPS = ("networks", "training", "generalisation", "images", "sequences", "attention")


def module_name(slug: str) -> str:
    """`app.lessons.claims.<group>.<slug_with_underscores>`, the group holding it."""
    name = slug.replace("-", "_")
    for group in GROUPS:
        full = f"app.lessons.claims.{group}.{name}"
        if importlib.util.find_spec(full) is not None:
            return full
    raise ModuleNotFoundError(
        f"no checker for lesson {slug!r}: app/lessons/claims/<group>/{name}.py"
    )


def checker(slug: str) -> ModuleType:
    return importlib.import_module(module_name(slug))


def claims(slug: str) -> tuple[Claim, ...]:
    found: tuple[Claim, ...] = checker(slug).CLAIMS
    return found


def check(slug: str, seed: int | None = None) -> dict[str, Outcome]:
    """Run the lesson on `seed` (None: its own) and judge every claim."""
    module = checker(slug)
    result: dict[str, Outcome] = module.verdict(module.measure(seed))
    expected = {c.key for c in module.CLAIMS}
    if set(result) != expected:
        raise AssertionError(f"{slug}: verdict keys {sorted(result)} != claims {sorted(expected)}")
    return result


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'“])")


def sentences(text: str) -> list[str]:
    """The sentences of a lesson text (our texts avoid abbreviations with inner full stops)."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
