"""Predict, then run, in headless Chromium: a lesson asks its question, the visitor answers,
the lesson's run starts from the page and, once it ends, settles the answer with the number
the server measured; the choice is remembered by the page across a reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from app.lessons.registry import LESSONS
from tests.e2e.conftest import wait_js
from tests.web.service import LiveServer

STATE = "document.getElementById('predict').dataset.state || ''"


def test_a_prediction_is_asked_answered_and_settled_by_the_run(
    page: Any, server: LiveServer, artifacts: Path
) -> None:
    lesson = LESSONS["early-stopping"]
    assert lesson.predict is not None
    page.goto(f"{server.http}/lessons/early-stopping")
    assert page.text_content("#predict-question") == lesson.predict.question
    assert page.is_disabled("#predict-run")  # nothing to run until an answer is chosen
    page.check("input[name=guess][value='1']")
    page.click("#predict-run")
    state = wait_js(page, f"['right', 'wrong', 'error'].includes({STATE}) && {STATE}", 180_000)
    assert state in ("right", "wrong"), page.text_content("#predict-status")
    card = page.evaluate("Object.assign({}, document.getElementById('predict').dataset)")
    # The server's verdict, from the run the page started, agrees with the run itself.
    run = httpx.get(f"{server.http}/api/runs/{card['runs']}", timeout=30).json()
    stopped_early = run["summary"]["epoch"] < 200
    assert card["answer"] == ("1" if stopped_early else "0")
    assert state == ("right" if card["answer"] == "1" else "wrong")
    text = page.text_content("#predict-result") or ""
    assert lesson.predict.answers[int(card["answer"])] in text
    assert f"epoch {run['summary']['epoch']} of 200" in text
    page.screenshot(path=str(artifacts / "lesson-predict.png"), full_page=True)
    page.reload()  # the choice lives in the page (localStorage), not on the server
    assert page.is_checked("input[name=guess][value='1']")
