"""Play and Reset clicked quickly: the page never loses track of a run it started.

A first-time user clicked Play and Reset 15 times ~60 ms apart: two runs trained unseen
while the page said "Ready", and the next Play waited in the queue. The last click must win
and every other run the page started must be stopped (issue 14).
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import wait_js
from tests.web.service import LiveServer, wait_for

ACTIVE = {"queued", "running", "paused"}


def settle(page: Any) -> None:
    wait_js(page, "!document.querySelector('.htmx-request')", 60_000)
    page.wait_for_timeout(300)


def active_runs(server: LiveServer) -> list[dict[str, Any]]:
    runs = httpx.get(server.http + "/api/runs", params={"limit": 200}).json()["runs"]
    return [r for r in runs if r["status"] in ACTIVE]


def click_quickly(page: Any, buttons: list[str]) -> None:
    """Real mouse clicks ~60 ms apart at the buttons' places (the panel is swapped under them)."""
    boxes = {b: page.locator(b).bounding_box() for b in set(buttons)}
    for b in buttons:
        box = boxes[b]
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(60)


def quiet(server: LiveServer) -> None:
    for run in active_runs(server):
        httpx.post(f"{server.http}/api/runs/{run['id']}/stop")
    wait_for(lambda: not active_runs(server), 60, "runs of earlier tests to stop")


def test_fifteen_quick_clicks_ending_on_play_leave_one_run(page: Any, server: LiveServer) -> None:
    quiet(server)
    page.goto(server.http + "/?ep=5000&n=100")
    settle(page)
    clicks = ["#btn-play", "#btn-reset"] * 7 + ["#btn-play"]
    click_quickly(page, clicks)
    settle(page)
    shown = wait_js(page, "document.getElementById('transport').dataset.run")

    def one_left() -> list[dict[str, Any]] | None:
        runs = active_runs(server)
        return runs if len(runs) == 1 else None

    runs = wait_for(one_left, 30, "only the last Play's run to stay active")
    assert runs[0]["id"] == shown, (runs, shown)
    wait_js(page, "['running', 'queued'].includes(document.getElementById('status').dataset.status)")
    page.wait_for_timeout(1500)  # nothing started late behind the page's back
    assert [r["id"] for r in active_runs(server)] == [shown]


def test_fifteen_quick_clicks_ending_on_reset_leave_none(page: Any, server: LiveServer) -> None:
    quiet(server)
    page.goto(server.http + "/?ep=5000&n=100")
    settle(page)
    clicks = ["#btn-play", "#btn-reset"] * 7 + ["#btn-play", "#btn-reset"]
    click_quickly(page, clicks[1:])  # 15 clicks, the last one Reset
    settle(page)
    wait_for(lambda: not active_runs(server), 30, "every run the page started to stop")
    assert page.inner_text("#status").lower() == "ready"
    assert page.get_attribute("#transport", "data-run") == ""
    page.wait_for_timeout(1500)
    assert not active_runs(server)
