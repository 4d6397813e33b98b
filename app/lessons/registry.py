"""Lessons: one JSON file per lesson under content/ (NN-slug.json, NN = the lesson's number:
1, 2, 3, ... in gallery order, one number per lesson), loaded into one registry. Each lesson
also names its `concept`, the row of CONCEPTS.md it teaches (concept 21, the choice of loss,
has two lessons: classification and outliers).

A lesson is data, not a code path: a title, our explanation, the charts to watch, and either
one experiment spec or one comparison (a base spec plus per-member overrides). Every spec is
validated with the engine's own `validate_spec` when the registry loads, so a broken lesson
fails at start-up (and in the tests), never when someone clicks it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from app.lessons.predict import SETTLERS
from app.nn.compare.plan import deep_merge
from app.nn.explain import ExplainSpec
from app.nn.spec.base import Limits, error_text
from app.nn.spec.experiment import Spec, validate_spec

# The charts and diagnostics a lesson may point at; the UI highlights these panels.
WATCH: dict[str, str] = {
    "loss": "training (and validation) loss per step",
    "accuracy": "train / validation / test accuracy",
    "boundary": "the decision boundary (or fitted curve) over the input square",
    "neurons": "what each hidden unit computes over the input square",
    "lr": "the learning rate actually used at each step",
    "grad_norms": "gradient norm of each layer's weights",
    "update_ratio": "update size / weight size per layer (reference 1e-3)",
    "weight_norm": "norm of each layer's weights",
    "dead": "fraction of hidden units that output zero on every training point",
    "saturated": "fraction of activations stuck at the flat ends of tanh / sigmoid",
    "act_std": "spread (std) of each hidden layer's activations",
    "histograms": "activation and gradient histograms with percentile bands",
    "symmetry": "mean cosine similarity between the incoming weights of a layer's units",
    "loss_at_init": "the first loss against the chance level -log(1/classes)",
    "flags": "vanishing / exploding gradient warnings",
    "sparsity": "share of each layer's weights within 0.01 of zero",
    "sign_agreement": "how often a unit's incoming weight updates all share one sign",
    "dropout": "train- vs eval-mode outputs and what each dropout layer keeps",
    "temperature": "the predicted class distribution at a point under temperature T",
    "splits": "the train / validation / test scores side by side",
    "through_time": "||dL/dh_t||, the gradient reaching each time step, on a log scale",
    "sequence": "one sequence's hidden state and gates over time, and the answer at each step",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Explanation(_Strict):
    try_it: str = Field(alias="try", min_length=20, description="what to do in the playground")
    see: str = Field(min_length=20, description="what happens, on which chart")
    why: str = Field(min_length=20, description="the mechanism behind it")


class Prediction(_Strict):
    """Asked before the run; the run settles it (app/lessons/predict.py has the settler)."""

    question: str = Field(min_length=10, max_length=300)
    answers: list[str] = Field(min_length=2, max_length=4)

    @field_validator("answers")
    @classmethod
    def _answers(cls, v: list[str]) -> list[str]:
        if any(not 1 <= len(a) <= 120 for a in v) or len(set(v)) != len(v):
            raise ValueError("answers are 1-120 characters each and all different")
        return v


class Member(_Strict):
    """One side of a comparison: a label and what differs from the base spec."""

    label: str = Field(min_length=1, max_length=40)
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="spec fragment deep-merged into the base"
    )
    every_layer: dict[str, Any] = Field(
        default_factory=dict, description="fields merged into every hidden layer"
    )


class Comparison(_Strict):
    base: dict[str, Any]
    members: list[Member] = Field(min_length=2, max_length=8)

    @field_validator("members")
    @classmethod
    def _unique(cls, v: list[Member]) -> list[Member]:
        labels = [m.label for m in v]
        if len(set(labels)) != len(labels):
            raise ValueError(f"member labels must be unique: {labels}")
        return v


class Lesson(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    number: int = Field(ge=1, le=99, description="the lesson's place in the gallery, 1, 2, ...")
    concept: int = Field(ge=1, le=99, description="the row of CONCEPTS.md it teaches")
    title: str = Field(min_length=3, max_length=80)
    summary: str = Field(min_length=10, max_length=160, description="one line for the gallery")
    explanation: Explanation
    watch: list[str] = Field(min_length=1)
    spec: dict[str, Any] | None = None
    comparison: Comparison | None = None
    predict: Prediction | None = None
    explore: dict[str, Any] | None = Field(
        None, description="a backprop-explorer setup (app.nn.explain.ExplainSpec) to link to"
    )

    @field_validator("watch")
    @classmethod
    def _watch(cls, v: list[str]) -> list[str]:
        for key in v:
            if key not in WATCH:
                raise ValueError(f"unknown chart {key!r}; allowed: {', '.join(WATCH)}")
        return v

    @model_validator(mode="after")
    def _one_experiment(self) -> Lesson:
        if (self.spec is None) == (self.comparison is None):
            raise ValueError("a lesson has exactly one of `spec` or `comparison`")
        # Validate now so a broken lesson fails at load time, naming the member.
        if self.spec is not None:
            try:
                validate_spec(self.spec)
            except ValidationError as exc:
                raise ValueError(f"spec: {error_text(exc)}") from None
        else:
            member_specs(self)
        if self.predict is not None and self.slug not in SETTLERS:
            raise ValueError(f"predict: no settler for {self.slug!r} in app/lessons/predict.py")
        if self.explore is not None:
            try:
                ExplainSpec.model_validate(self.explore).experiment()
            except ValidationError as exc:
                raise ValueError(f"explore: {exc.errors()[0]['msg']}") from None
        return self

    def explore_query(self) -> str:
        """The explorer link's query string ("" when the lesson has none)."""
        if self.explore is None:
            return ""
        spec = ExplainSpec.model_validate(self.explore)
        pairs = {
            k: ",".join(map(str, v)) if isinstance(v, list) else v
            for k, v in spec.model_dump().items()
            if k in self.explore
        }
        return urlencode(pairs)

    @property
    def kind(self) -> str:
        return "spec" if self.spec is not None else "comparison"

    def to_spec(self, limits: Limits | None = None) -> Spec:
        """The single experiment (spec lessons) or the base (comparisons)."""
        if self.spec is not None:
            return validate_spec(copy.deepcopy(self.spec), limits)
        assert self.comparison is not None
        return validate_spec(copy.deepcopy(self.comparison.base), limits)


def member_data(base: dict[str, Any], member: Member) -> dict[str, Any]:
    """The full spec dict of one member: base + overrides, then every_layer on each layer."""
    data = deep_merge(copy.deepcopy(base), member.overrides)
    if member.every_layer:
        model = data.setdefault("model", {})
        layers = model.get("layers")
        if layers is None:
            layers = Spec().model.model_dump()["layers"]
        model["layers"] = [deep_merge(layer, member.every_layer) for layer in layers]
    return data


def member_specs(lesson: Lesson, limits: Limits | None = None) -> list[tuple[str, Spec]]:
    """(label, validated spec) per member; a spec lesson yields one ("", spec) pair."""
    if lesson.comparison is None:
        return [("", lesson.to_spec(limits))]
    base = lesson.comparison.base
    out = []
    for member in lesson.comparison.members:
        try:
            spec = validate_spec(member_data(base, member), limits)
        except ValidationError as exc:
            raise ValueError(f"member {member.label!r}: {error_text(exc)}") from None
        out.append((member.label, spec))
    return out


def _read_all() -> dict[str, Lesson]:
    folder = resources.files("app.lessons").joinpath("content")
    lessons: dict[str, Lesson] = {}
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".json"):
            continue
        try:
            lesson = Lesson.model_validate(json.loads(item.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise ValueError(f"lesson file {item.name}: {exc}") from exc
        if lesson.slug in lessons:
            raise ValueError(f"duplicate lesson slug {lesson.slug!r} in {item.name}")
        lessons[lesson.slug] = lesson
    ordered = dict(sorted(lessons.items(), key=lambda kv: (kv[1].number, kv[0])))
    numbers = [lesson.number for lesson in ordered.values()]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"lesson numbers must be 1..{len(numbers)}, each once: {numbers}")
    return ordered


@cache
def load_lessons() -> dict[str, Lesson]:
    """Every lesson, ordered by concept number; read and validated once per process."""
    return _read_all()


class _Lessons(Mapping[str, Lesson]):
    """slug -> Lesson, read on first use (nothing is loaded at import time)."""

    def __getitem__(self, slug: str) -> Lesson:
        try:
            return load_lessons()[slug]
        except KeyError:
            raise KeyError(f"unknown lesson {slug!r}; allowed: {', '.join(self)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(load_lessons())

    def __len__(self) -> int:
        return len(load_lessons())


LESSONS: Mapping[str, Lesson] = _Lessons()


def gallery() -> list[dict[str, Any]]:
    """The gallery's cards: JSON-ready, in concept order."""
    return [
        {
            "slug": lesson.slug,
            "number": lesson.number,
            "title": lesson.title,
            "summary": lesson.summary,
            "kind": lesson.kind,
            "members": [m.label for m in lesson.comparison.members] if lesson.comparison else [],
        }
        for lesson in LESSONS.values()
    ]


def lesson_json(lesson: Lesson, limits: Limits | None = None) -> dict[str, Any]:
    """Everything a lesson page needs, JSON-ready: the texts, the charts to watch (with their
    help text) and each member's fully resolved spec (one unlabelled member for a spec lesson)."""
    return {
        "slug": lesson.slug,
        "number": lesson.number,
        "title": lesson.title,
        "summary": lesson.summary,
        "kind": lesson.kind,
        "explanation": lesson.explanation.model_dump(by_alias=True),
        "watch": [{"key": key, "help": WATCH[key]} for key in lesson.watch],
        "members": [
            {"label": label, "spec": spec.model_dump(mode="json")}
            for label, spec in member_specs(lesson, limits)
        ],
    }
