"""The smaller things a first-time user hit on the playground (issue 14), in Chromium."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import wait_js
from tests.web.service import LONG, LiveServer, wait_for

STATUS = "document.getElementById('status').dataset.status"


def settle(page: Any) -> None:
    wait_js(page, "!document.querySelector('.htmx-request')", 60_000)
    page.wait_for_timeout(300)


def boxes_overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_clear_keeps_draw_mode_off_and_the_caption_follows_the_data(
    page: Any, server: LiveServer
) -> None:
    page.goto(server.http + "/")
    settle(page)
    assert page.inner_text("#boundary-caption") == "Circle"
    page.click("#btn-draw-clear")
    page.wait_for_timeout(500)
    assert page.get_attribute("#btn-draw", "aria-pressed") == "false"
    assert "drawing" not in (page.get_attribute("#plot-boundary", "class") or "")
    assert "press ✎ Draw points" in page.inner_text("#draw-hint")
    # Drawing makes custom points: the caption says so (it stayed "Circle").
    page.click("#btn-draw")
    box = page.locator("#plot-boundary .nsewdrag").bounding_box()
    for k in range(3):
        page.mouse.click(box["x"] + box["width"] * (0.3 + 0.2 * k), box["y"] + box["height"] / 2)
        page.wait_for_timeout(250)
    wait_js(page, "document.getElementById('boundary-caption').textContent === 'Custom points'")


def test_network_before_play_shows_edges_and_input_pictures(page: Any, server: LiveServer) -> None:
    page.goto(server.http + "/?f=x1,x2,x1x2")
    n_edges = wait_js(page, "document.querySelectorAll('#network line').length")
    pictures = page.evaluate(
        "[...document.querySelectorAll('#network canvas.input-thumb')].map(c => c.dataset.feature)"
    )
    assert n_edges >= 3 * 4, n_edges
    features = page.evaluate(
        "[...document.querySelectorAll('#network text')].map(t => t.textContent)"
    )
    assert pictures == features == ["x1", "x2", "x1x2"], (pictures, features)


def test_output_plot_legend_ring_speed_and_curve(page: Any, server: LiveServer) -> None:
    page.goto(server.http + "/?ep=3000&n=200")
    settle(page)
    page.click("#btn-play")
    wait_js(page, f"{STATUS} === 'running'", 90_000)
    wait_js(page, "window.__bpDiag && window.__bpDiag.logits", 60_000)
    wait_js(page, "(document.getElementById('chart-loss').data || []).length >= 2", 60_000)
    page.wait_for_timeout(500)
    # No ring at (0, 0) until the user picks a point for the temperature view.
    assert page.locator("#temp-marker").count() == 0
    # Legends sit clear of the x-axis title.
    for chart in ("chart-loss", "chart-acc", "chart-grad"):
        legend, title = page.evaluate(
            """(id) => ['.legend', '[class*="xtitle"]'].map((sel) => {
                const e = document.querySelector('#' + id + ' ' + sel);
                const r = e && e.getBoundingClientRect();
                return r && {x: r.x, y: r.y, width: r.width, height: r.height};
            })""",
            chart,
        )
        assert legend and title and not boxes_overlap(legend, title), (chart, legend, title)
    # epochs/s reads while running and stops reading when paused.
    wait_js(page, "document.getElementById('speed').textContent !== '–'")
    page.click("#btn-pause")
    wait_js(page, f"{STATUS} === 'paused'")
    page.wait_for_timeout(300)
    assert page.inner_text("#speed") == "–"
    run_id = page.get_attribute("#transport", "data-run")
    page.click("#btn-reset")
    wait_js(page, "document.getElementById('transport').dataset.run === ''")
    # The ended run replayed on its own page: a burst of stored frames is no speed.
    page.goto(f"{server.http}/runs/{run_id}")
    page.wait_for_load_state()
    wait_js(page, f"{STATUS} === 'stopped'")
    page.wait_for_timeout(300)
    assert page.inner_text("#speed") == "–"


def test_one_d_sine_draws_its_curve_on_top(page: Any, server: LiveServer) -> None:
    page.goto(server.http + "/?d=sine&ep=2000&n=100")
    settle(page)
    page.click("#btn-play")
    names = wait_js(
        page,
        "(() => { const d = document.getElementById('plot-boundary').data || [];"
        " return d.some(t => t.name === 'model') && d.map(t => t.name); })()",
        90_000,
    )
    assert names[-1] == "model", names
    # x2 is always 0 for the sine: no x2 input in the network diagram.
    inputs = page.evaluate(
        "[...document.querySelectorAll('#network text')].map(t => t.textContent)"
    )
    assert inputs == ["x1"], inputs
    page.click("#btn-reset")
    wait_js(page, "document.getElementById('transport').dataset.run === ''")


def test_a_queued_run_offers_no_pause_or_step(page: Any, server: LiveServer) -> None:
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    busy = [httpx.post(server.http + "/api/runs", json=LONG).json()["id"] for _ in range(2)]
    try:
        wait_for(
            lambda: all(
                httpx.get(f"{server.http}/api/runs/{r}").json()["status"] == "running" for r in busy
            ),
            90,
            "both workers to be busy",
        )
        page.goto(server.http + "/?ep=3000&n=100")
        settle(page)
        page.click("#btn-play")
        wait_js(page, f"{STATUS} === 'queued'")
        assert page.is_disabled("#btn-pause") and page.is_disabled("#btn-step")
        page.click("#btn-pause", force=True)  # disabled: nothing is sent
        page.wait_for_timeout(300)
    finally:
        for r in busy:
            httpx.post(f"{server.http}/api/runs/{r}/stop")
    wait_js(page, f"{STATUS} === 'running'", 90_000)
    assert page.is_enabled("#btn-pause") and page.is_enabled("#btn-step")
    page.click("#btn-reset")
    wait_js(page, "document.getElementById('transport').dataset.run === ''")
    assert not [c for c in console if "409" in c], console
