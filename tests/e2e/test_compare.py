"""The Compare and race pages in headless Chromium against the real app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import wait_js
from tests.web.service import LiveServer

DONE = (
    "['finished','stopped','diverged','failed']"
    ".includes(document.getElementById('{}').dataset.status)"
)
CURVES = (
    "(() => (document.getElementById('cmp-loss').data || [])"
    ".filter(t => t.name.endsWith(' train') && t.y.filter(v => v !== null).length >= 5)"
    ".map(t => [t.name, t.line.color]))()"
)


def test_compare_page_plays_members_together(
    page: Any, server: LiveServer, artifacts: Path
) -> None:
    page.goto(server.http + "/compare")  # the default: SGD vs momentum vs Nesterov
    assert "m=" in page.url and page.locator(".member").count() == 3
    # A preset is one click away; the link follows the form.
    page.click("button[data-preset='rmsprop-adam']")
    wait_js(page, "document.querySelectorAll('.member').length === 2")
    wait_js(page, "location.search.includes('o~rmsprop')")
    page.click("button[data-preset='momentum']")
    wait_js(
        page,
        "document.querySelectorAll('.member').length === 3"
        " && location.search.includes('o~nesterov')",
    )
    page.fill("input[name='train.epochs']", "40")
    page.dispatch_event("input[name='train.epochs']", "change")
    wait_js(page, "location.search.includes('ep=40')")
    shared = page.url

    page.click("#cmp-play")
    curves = wait_js(
        page, f"(() => {{ const c = {CURVES}; return c.length === 3 && c; }})()", 120_000
    )
    assert [name for name, _ in curves] == ["SGD train", "momentum train", "Nesterov train"]
    assert len({color for _, color in curves}) == 3  # a stable colour per member
    wait_js(page, DONE.format("cmp-status"), 120_000)
    wait_js(page, "document.querySelectorAll('#cmp-summary tbody tr').length === 3")
    leader = page.locator("#cmp-summary tr.leader")
    assert leader.count() == 1 and "★" in leader.inner_text()
    # One picture per member (the members share member 1's points), in a card on show.
    wait_js(
        page,
        "[0, 1, 2].every(i => document.querySelector(`#cmp-b-${i} .main-svg`))"
        " && !document.getElementById('cmp-boundaries').closest('.card').hidden",
    )
    assert page.locator("#cmp-boundaries").is_visible()
    page.screenshot(path=str(artifacts / "compare-finished.png"), full_page=True)

    # The legend hides a member everywhere, and brings it back.
    page.click(".legend-chip[data-member='1']")
    wait_js(
        page, "document.getElementById('cmp-loss').data.every(t => !t.name.startsWith('momentum'))"
    )
    assert page.locator(".multiple[data-member='1']").is_hidden()
    page.click(".legend-chip[data-member='1']")
    wait_js(
        page, "document.getElementById('cmp-loss').data.some(t => t.name.startsWith('momentum'))"
    )

    # The shared link opens the same comparison.
    page.goto(shared)
    assert page.input_value("input[name='train.epochs']") == "40"
    assert page.locator(".member").count() == 3


def test_race_page_draws_trajectories_from_a_clicked_start(
    page: Any, server: LiveServer, artifacts: Path
) -> None:
    page.goto(server.http + "/race")
    wait_js(page, "window.__race.frames > 0 && document.querySelector('#race-contour .nsewdrag')")
    # Another function: its own contour and its own start point.
    page.select_option("#race-function", "rosenbrock")
    wait_js(page, "document.getElementById('race-start-text').textContent === '(-1.5, 2)'")
    wait_js(page, "document.getElementById('race-contour').data[0].x[0] === -2")
    page.select_option("#race-function", "bowl")
    wait_js(page, "document.getElementById('race-contour').data[0].x[0] === -5")
    box = page.locator("#race-contour .nsewdrag").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
    wait_js(page, "parseFloat(document.getElementById('race-start-x').value) < -1")
    start = [float(page.input_value("#race-start-x")), float(page.input_value("#race-start-y"))]
    assert start[0] < -1 and start[1] > 1  # upper left of the bowl's [-5, 5] square
    page.click("#race-play")
    lines = wait_js(
        page,
        "(() => { const l = document.getElementById('race-contour').data"
        ".filter(t => t.mode === 'lines');"
        " return l.length === 4 && l.every(t => t.x.length >= 200) && l; })()",
        120_000,
    )
    for line in lines:  # every trajectory starts at the clicked point
        assert abs(line["x"][0] - start[0]) < 1e-9 and abs(line["y"][0] - start[1]) < 1e-9
    wait_js(page, DONE.format("race-status"), 60_000)
    wait_js(page, "document.querySelectorAll('#race-table tbody tr').length === 4")
    page.screenshot(path=str(artifacts / "race-finished.png"), full_page=True)


def test_the_default_comparison_trains_until_paused_at_the_pages_pace(
    page: Any, server: LiveServer
) -> None:
    page.goto(server.http + "/compare")
    page.click("#cmp-play")
    wait_js(page, "parseInt(document.getElementById('cmp-epoch').textContent) >= 20", 60_000)
    t0, e0 = page.evaluate(
        "[performance.now(), parseFloat(document.getElementById('cmp-epoch').textContent)]"
    )
    page.wait_for_timeout(2000)
    t1, e1, status = page.evaluate(
        "[performance.now(), parseFloat(document.getElementById('cmp-epoch').textContent),"
        " document.getElementById('cmp-status').dataset.status]"
    )
    assert status == "running"  # no epoch budget ran out
    rate = (e1 - e0) / ((t1 - t0) / 1000)
    assert 0 < rate <= 120 * 1.25, rate  # the page's pace (PAGE_PACE), not the engine's
    # The curves' newest points are on the canvas tail over the loss chart.
    wait_js(page, "!!document.querySelector('#cmp-loss canvas.chart-tail')", 10_000)
    page.click("#cmp-pause")
    wait_js(page, "document.getElementById('cmp-status').dataset.status === 'paused'")
