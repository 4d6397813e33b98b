"""Predict, then run: each question's settler on the lesson's real runs, and the HTTP side
(the experiment a page starts, settling real runs of the service, bad requests)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.lessons.claims.runner import run_lesson
from app.lessons.predict import SETTLERS, settle
from app.lessons.registry import LESSONS
from app.runs.kinds.run.loop import summary_of
from tests.web.service import app_client, make_settings

ASKING = [slug for slug, lesson in LESSONS.items() if lesson.predict is not None]
QUICK = {"backprop", "exploding-gradients", "early-stopping"}  # the default run's sample


def test_questions_have_settlers_and_enough_lessons_ask() -> None:
    assert set(ASKING) == set(SETTLERS)
    assert len(ASKING) >= 10
    for slug in ASKING:
        assert 2 <= len(LESSONS[slug].predict.answers) <= 4  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "slug", [s if s in QUICK else pytest.param(s, marks=pytest.mark.slow) for s in ASKING]
)
def test_each_run_settles_its_question_with_a_measured_number(slug: str) -> None:
    runs = run_lesson(slug)
    summaries = {
        label: summary_of(run.end, run.end["status"], run.end.get("reason", ""))
        for label, run in runs.items()
    }
    verdict = settle(slug, summaries)
    assert 0 <= verdict["answer"] < len(LESSONS[slug].predict.answers)  # type: ignore[union-attr]
    assert any(ch.isdigit() for ch in verdict["measured"])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(make_settings(tmp_path_factory.mktemp("predict"))) as c:
        yield c


def wait_ended(client: TestClient, ids: list[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = [client.get(f"/api/runs/{i}").json()["status"] for i in ids]
        if all(s in ("finished", "diverged", "stopped") for s in states):
            return
        time.sleep(0.3)
    raise AssertionError(f"runs did not end: {states}")


def test_a_comparison_lesson_runs_and_settles_over_http(client: TestClient) -> None:
    exp = client.get("/lessons/exploding-gradients/experiment.json").json()
    assert exp["kind"] == "comparison" and exp["labels"] == ["no clipping", "clip norm 1"]
    created = client.post("/api/comparisons", json=exp["body"])
    assert created.status_code == 201, created.text
    ids = created.json()["members"]
    early = client.get(f"/lessons/exploding-gradients/settle?runs={','.join(ids)}")
    assert early.status_code in (200, 409)  # 409 while a member still trains
    wait_ended(client, ids)
    verdict = client.get(f"/lessons/exploding-gradients/settle?runs={','.join(ids)}").json()
    plain = client.get(f"/api/runs/{ids[0]}").json()
    expected = 1 if plain["status"] == "diverged" else 0
    assert verdict["answer"] == expected and str(plain["step"]) in verdict["measured"]
    assert verdict["answer_text"] == LESSONS["exploding-gradients"].predict.answers[expected]  # type: ignore[union-attr]


def test_a_single_run_lesson_and_bad_requests(client: TestClient) -> None:
    exp = client.get("/lessons/early-stopping/experiment.json").json()
    assert exp["kind"] == "run" and exp["labels"] == [""]
    assert client.get("/lessons/nope/experiment.json").status_code == 404
    assert client.get("/lessons/early-stopping/settle?runs=a,b").status_code == 422
    assert client.get("/lessons/early-stopping/settle?runs=../x").status_code == 422
    assert client.get("/lessons/early-stopping/settle?runs=nosuchrun").status_code == 404
    assert client.get("/lessons/dropout/settle?runs=x").status_code == 404  # asks nothing
    assert client.get("/lessons/early-stopping/settle").status_code == 422
