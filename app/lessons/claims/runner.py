"""Run a lesson headlessly, exactly as stored (only the seed may change), and keep its records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.lessons.registry import LESSONS, member_specs
from app.nn.families.registry import trainer_for
from app.nn.spec.experiment import Spec

Record = dict[str, Any]


@dataclass
class Run:
    trainer: Any  # the family's trainer (app.nn.families.base.FamilyTrainer)
    start: Record
    end: Record
    evals: list[Record] = field(default_factory=list)
    steps: list[Record] = field(default_factory=list)

    @property
    def final(self) -> dict[str, Any]:
        return self.end["final"]

    def losses(self) -> list[float]:
        return [r["loss"] for r in self.steps]

    def first_eval(self) -> Record:
        return self.evals[0]

    def last_eval(self) -> Record:
        return self.evals[-1]


def run_spec(spec: Spec) -> Run:
    trainer: Any = trainer_for(spec)
    start: Record = {}
    end: Record = {}
    evals, steps = [], []
    for rec in trainer.records():
        kind = rec["kind"]
        if kind == "step":
            steps.append(rec)
        elif kind == "eval":
            evals.append(rec)
        elif kind == "start":
            start = rec
        else:
            end = rec
    return Run(trainer, start, end, evals, steps)


def lesson_specs(slug: str, seed: int | None = None) -> dict[str, Spec]:
    """label -> spec ("" for a single-spec lesson), optionally re-seeded."""
    pairs = member_specs(LESSONS[slug])
    if seed is None:
        return dict(pairs)
    return {label: spec.model_copy(update={"seed": seed}) for label, spec in pairs}


def run_lesson(slug: str, seed: int | None = None) -> dict[str, Run]:
    """Members run one after another with the same seed: same data and, where shapes
    match, the same initial weights."""
    return {label: run_spec(spec) for label, spec in lesson_specs(slug, seed).items()}


def run_single(slug: str, seed: int | None = None) -> Run:
    runs = run_lesson(slug, seed)
    assert list(runs) == [""], f"{slug} is a comparison"
    return runs[""]
