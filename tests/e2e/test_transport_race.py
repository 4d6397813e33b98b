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


def sockets_closed(server: LiveServer) -> None:
    """Wait until the server has seen every socket close (a closed tab's goes a moment later)."""

    def none_open() -> bool:
        text = httpx.get(server.http + "/metrics").text
        line = next(x for x in text.splitlines() if x.startswith("playground_socket_clients "))
        return float(line.split()[1]) == 0

    wait_for(none_open, 30, "the closed tab's socket to close")


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
    wait_js(
        page, "['running', 'queued'].includes(document.getElementById('status').dataset.status)"
    )
    page.wait_for_timeout(1500)  # nothing started late behind the page's back
    assert [r["id"] for r in active_runs(server)] == [shown]


def test_a_press_released_on_the_swapped_in_button_still_clicks(
    page: Any, server: LiveServer
) -> None:
    """The CI flake behind issue 14's last-click rule: a Reset answer swapped the run panel
    between the mouse's press and release on Play, so the click reached no button (a click
    needs one element under both) and the user's last Play was lost."""
    quiet(server)
    page.goto(server.http + "/?ep=5000&n=100")
    settle(page)
    box = page.locator("#btn-play").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.evaluate("window.__pressedPlay = document.getElementById('btn-play')")
    page.mouse.down()
    page.evaluate("document.getElementById('btn-reset').click()")
    wait_js(page, "!window.__pressedPlay.isConnected")  # the panel was swapped under the press
    page.mouse.up()
    shown = wait_js(page, "document.getElementById('transport').dataset.run")
    assert [r["id"] for r in wait_for(lambda: active_runs(server), 30, "a run")] == [shown]
    page.click("#btn-reset")
    wait_for(lambda: not active_runs(server), 30, "the run to stop")


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


def test_reopened_tab_offers_to_reattach_and_stop(page: Any, server: LiveServer) -> None:
    quiet(server)
    url = server.http + "/?ep=5000&n=100"
    page.goto(url)
    settle(page)
    page.click("#btn-play")
    wait_js(page, "document.getElementById('status').dataset.status === 'running'")
    run_id = page.get_attribute("#transport", "data-run")
    context = page.context
    page.close()  # the tab is closed mid-run; the run trains on
    sockets_closed(server)

    again = context.new_page()
    again.goto(url)
    offer = again.locator(f".reattach-run[data-run='{run_id}']")
    text = offer.inner_text()
    assert f"Your run {run_id[:4]} is still training" in text, text
    assert "after 10 min" in text, text  # unwatched runs stop by themselves (the setting)
    offer.locator("a", has_text="watch").click()
    again.wait_for_url(f"**/runs/{run_id}")
    again.wait_for_load_state()
    wait_js(again, f"document.getElementById('transport').dataset.run === '{run_id}'")
    wait_js(again, "document.getElementById('status').dataset.status === 'running'")
    step = int(
        wait_js(
            again,
            "parseInt(document.getElementById('step').textContent) > 0 && "
            "document.getElementById('step').textContent",
        )
    )
    assert step > 0
    # The reattached run is this page's own now: Reset stops it.
    again.click("#btn-reset")
    wait_for(lambda: not active_runs(server), 30, "the reattached run to stop")

    # Closed again, reopened: "stop" ends a run without watching it.
    again.goto(url)
    settle(again)
    again.click("#btn-play")
    wait_js(again, "document.getElementById('status').dataset.status === 'running'")
    second = again.get_attribute("#transport", "data-run")
    again.close()
    sockets_closed(server)
    third = context.new_page()
    third.goto(url)
    third.locator(f".reattach-run[data-run='{second}'] button", has_text="stop").click()
    third.wait_for_selector(f"text=Stopped run {second[:4]}")
    wait_for(lambda: not active_runs(server), 30, "the run stopped from the offer")
    third.close()


def test_a_run_watched_in_another_tab_is_not_offered(page: Any, server: LiveServer) -> None:
    quiet(server)
    url = server.http + "/?ep=5000&n=100"
    page.goto(url)
    settle(page)
    page.click("#btn-play")
    wait_js(page, "document.getElementById('status').dataset.status === 'running'")
    other = page.context.new_page()
    other.goto(url)
    assert other.locator(".reattach-run").count() == 0
    other.close()
    page.click("#btn-reset")
    wait_for(lambda: not active_runs(server), 30, "the run to stop")
