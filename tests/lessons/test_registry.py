"""The lesson registry: every concept covered, every spec valid, overrides merged as documented."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.lessons.claims import DEFAULT_SHARE, claims, sentences
from app.lessons.registry import (
    LESSONS,
    Lesson,
    deep_merge,
    gallery,
    lesson_json,
    member_specs,
)
from app.nn.spec.experiment import Spec
from app.settings import Settings

HERE = Path(__file__).parent
# The lesson notes live beside the repository (../shared/seeds), or beside the checkout's
# parent when the repository is a git worktree (/work/wt/<name>).
SEEDS = next(
    (p / "shared" / "seeds" for p in HERE.parents if (p / "shared" / "seeds").is_dir()),
    HERE.parents[2] / "shared" / "seeds",
)


def test_every_concept_has_a_lesson_and_numbers_run_1_to_n() -> None:
    numbers = [lesson.number for lesson in LESSONS.values()]
    assert numbers == list(range(1, len(LESSONS) + 1))  # one number per lesson, in order
    assert set(range(1, 26)) <= {lesson.concept for lesson in LESSONS.values()}


def test_the_gallery_reads_1_to_n_without_jumps() -> None:
    from app.web.lessons.pages import grouped

    shown = [lesson.number for section in grouped() for lesson in section["lessons"]]
    assert shown == list(range(1, len(LESSONS) + 1))


def test_one_file_per_lesson_named_after_it_and_shipped_in_the_package() -> None:
    folder = resources.files("app.lessons").joinpath("content")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".json"))
    expected = sorted(f"{lesson.number:02d}-{slug}.json" for slug, lesson in LESSONS.items())
    assert names == expected


@pytest.mark.parametrize("slug", list(LESSONS))
def test_each_lesson_yields_valid_distinct_specs(slug: str) -> None:
    lesson = LESSONS[slug]
    pairs = member_specs(lesson)
    assert all(isinstance(spec, Spec) for _, spec in pairs)
    if lesson.comparison is None:
        assert [label for label, _ in pairs] == [""]
        assert lesson.to_spec() == pairs[0][1]
    else:
        dumps = [json.dumps(spec.model_dump(mode="json"), sort_keys=True) for _, spec in pairs]
        assert len(set(dumps)) == len(dumps), "two members run the same experiment"
        assert len({spec.seed for _, spec in pairs}) == 1  # same data, same init


def test_deep_merge_rules() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "layers": [{"u": 1}, {"u": 2}]}
    merged = deep_merge(base, {"a": {"c": [3]}, "layers": [{}, {"r": True}]})
    assert merged == {"a": {"b": 1, "c": [3]}, "layers": [{"u": 1}, {"u": 2, "r": True}]}
    replaced = deep_merge(base, {"layers": [{"u": 9}]})  # another length: replaces the list
    assert replaced["layers"] == [{"u": 9}]
    assert base["layers"] == [{"u": 1}, {"u": 2}]  # the base is never modified


def test_every_layer_and_overrides_reach_the_member_spec() -> None:
    residual = dict(member_specs(LESSONS["residual"]))
    assert [layer.residual for layer in residual["residual"].model.layers] == [False] + [True] * 5
    init = dict(member_specs(LESSONS["init-scale"]))
    he = init["relu He"].model
    assert he.init == "kaiming_normal"
    assert {layer.activation for layer in he.layers} == {"relu"}


def _lesson(**changes: object) -> dict:
    data = json.loads(json.dumps(LESSONS["nonlinearity"].model_dump(by_alias=True)))
    data.update(changes)
    return data


def test_broken_lessons_fail_at_load_naming_the_problem() -> None:
    bad_member = _lesson()
    bad_member["comparison"]["members"][0]["overrides"] = {"train": {"optimizer": {"lr": 99}}}
    with pytest.raises(ValidationError, match=r"member 'linear': train.optimizer.lr"):
        Lesson.model_validate(bad_member)
    with pytest.raises(ValidationError, match="exactly one"):
        Lesson.model_validate(_lesson(spec={"seed": 0}))
    with pytest.raises(ValidationError, match="unknown chart"):
        Lesson.model_validate(_lesson(watch=["nope"]))
    with pytest.raises(KeyError, match="allowed"):
        LESSONS["no-such-lesson"]


def test_gallery_cards_are_json_ready() -> None:
    cards = gallery()
    assert [c["slug"] for c in cards] == list(LESSONS)
    json.dumps(cards)
    zero = next(c for c in cards if c["slug"] == "zero-init")
    assert zero["number"] == 3 and zero["kind"] == "comparison"
    assert zero["members"] == ["zeros", "xavier"]


def test_lesson_json_round_trips_its_specs() -> None:
    page = lesson_json(LESSONS["batch-size"])
    json.dumps(page)
    assert page["explanation"]["try"].startswith("Train")
    assert [w["key"] for w in page["watch"]] == LESSONS["batch-size"].watch
    assert [m["label"] for m in page["members"]] == ["batch 1", "batch 16", "full batch"]
    specs = [Spec.model_validate(m["spec"]) for m in page["members"]]
    assert [s.train.batch_size for s in specs] == [1, 16, 150]
    single = lesson_json(LESSONS["dropout"])
    assert single["kind"] == "spec" and [m["label"] for m in single["members"]] == [""]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the lesson notes are not beside the repository")
def test_explanations_are_in_our_own_words() -> None:
    """No run of 8 words from the source notes appears in any lesson text."""
    n = 8
    notes = set()
    for path in SEEDS.glob("*.txt"):
        words = _words(path.read_text(errors="ignore"))
        notes |= {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}
    for lesson in LESSONS.values():
        e = lesson.explanation
        words = _words(" ".join([lesson.title, lesson.summary, e.try_it, e.see, e.why]))
        copied = [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
        copied = [c for c in copied if tuple(c.split()) in notes]
        assert not copied, f"{lesson.slug}: {copied[0]!r}"


@pytest.mark.parametrize("slug", list(LESSONS))
def test_every_sentence_of_what_you_will_see_is_a_checked_claim(slug: str) -> None:
    """Each sentence of "what you will see" is asserted by at least one claim of the lesson's
    checker (the code its test and bench/lessons.py run), and no claim points elsewhere."""
    told = sentences(LESSONS[slug].explanation.see)
    checked = {claim.sentence for claim in claims(slug)}
    assert checked <= set(range(len(told))), f"{slug}: claims point past the text"
    unchecked = [s for i, s in enumerate(told) if i not in checked]
    assert not unchecked, f"{slug}: no claim checks {unchecked[0]!r}"
    for claim in claims(slug):  # a qualified claim says so in its sentence
        if claim.share < DEFAULT_SHARE:
            assert "most" in told[claim.sentence].lower(), (slug, claim.key)


def test_every_lesson_opens_in_demo_mode() -> None:
    limits = Settings(demo=True).limits()
    for slug, lesson in LESSONS.items():
        for label, spec in member_specs(lesson, limits):
            assert spec == dict(member_specs(lesson))[label], f"{slug} {label}"
