"""Lessons, the diagnostics panel and the temperature view in headless Chromium.

The page's numbers are checked twice: against the run's own diagnostics frame (the page
shows what the server computed) and against numpy on the weights of the same snapshot
(the server computed the right thing)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from app.nn.measure.pictures import decode
from tests.e2e.conftest import wait_js
from tests.web.service import LiveServer

# Every CSP violation the browser reports (init scripts are not subject to the page's CSP).
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sample);
});
"""
LOSS_POINTS = "document.getElementById('chart-loss').data?.[0]?.y?.filter(v => v !== null) ?? []"
ROWS = "document.querySelectorAll('#diag-rows tr[data-layer]').length"


def final_snapshot(server: LiveServer, run_id: str) -> dict[str, Any]:
    events = httpx.get(f"{server.http}/api/runs/{run_id}/events", timeout=30).json()["events"]
    start = next(e for e in events if e["type"] == "start")
    snap = [e for e in events if e["type"] == "snapshot"][-1]
    return {"start": start, "snapshot": decode(snap)}  # float16 weights as plain lists


def numpy_logits(snap: dict[str, Any], x1: float, x2: float) -> np.ndarray:
    """The tanh network of the snapshot's (rounded) weights at one point."""
    h = np.array([x1, x2])
    layers = list(zip(snap["weights"], snap["biases"], strict=True))
    for i, (w, b) in enumerate(layers):
        pre = np.asarray(w) @ h + np.asarray(b)
        h = pre if i == len(layers) - 1 else np.tanh(pre)
    return h


def softmax(z: np.ndarray, t: float) -> np.ndarray:
    e = np.exp(z / t - np.max(z / t))
    return e / e.sum()


def bars(page: Any) -> list[float]:
    return page.evaluate(
        "[...document.querySelectorAll('#temp-bars .temp-bar')].map(b => parseFloat(b.dataset.p))"
    )


def set_temperature(page: Any, t: float) -> None:
    page.evaluate(
        """t => { const s = document.getElementById('temp-t'); s.value = t;
                  s.dispatchEvent(new Event('input', {bubbles: true})); }""",
        t,
    )


def test_gallery_to_playground_diagnostics_and_temperature(
    page: Any, server: LiveServer, artifacts: Path
) -> None:
    page.add_init_script(WATCH_CSP)
    page.goto(server.http + "/lessons")
    assert page.locator("a.lesson-card").count() >= 24
    page.screenshot(path=str(artifacts / "lessons-gallery.png"), full_page=True)
    page.click("a.lesson-card[data-slug='softmax-temperature']")
    page.wait_for_url("**/lessons/softmax-temperature")
    assert "Softmax temperature" in page.inner_text("h1")
    page.screenshot(path=str(artifacts / "lesson-softmax-temperature.png"), full_page=True)

    page.click("#open-lesson")
    page.wait_for_url("**/?*d=blobs*#lesson=softmax-temperature")
    banner = page.wait_for_selector("#lesson-banner .lesson-banner-inner")
    assert "Softmax temperature" in banner.inner_text()
    assert page.locator("#temperature.lesson-watch").count() == 1  # the card to watch

    page.click("#btn-play")
    # A short lesson on a quiet machine may finish within a few 20/s frames: wait for the
    # end or for five points, then require a curve (at least two points) either way.
    done = "document.getElementById('status').dataset.status === 'finished'"
    wait_js(page, f"(() => {{ const y = {LOSS_POINTS}; return y.length >= 5 || {done}; }})()")
    wait_js(page, f"(() => {{ const y = {LOSS_POINTS}; return y.length >= 2; }})()")
    wait_js(page, f"{ROWS} === 2")  # two hidden layers
    wait_js(page, "document.getElementById('status').dataset.status === 'finished'", 120_000)
    run_id = page.get_attribute("#transport", "data-run")
    got = final_snapshot(server, run_id)
    snap, diag = got["snapshot"], got["snapshot"]["diagnostics"]
    # The final frame is on the page: step, per-layer values, loss at init.
    wait_js(
        page, f"document.getElementById('diag-caption').textContent.endsWith('step {diag['step']}')"
    )
    shown = page.evaluate(
        """[...document.querySelectorAll('#diag-rows tr[data-layer]')].map(tr => ({
             name: tr.dataset.layer,
             dead: parseFloat(tr.querySelector('td.dead').dataset.value),
             saturated: parseFloat(tr.querySelector('td.saturated').dataset.value),
             symmetry: parseFloat(tr.querySelector('td.symmetry').dataset.value),
             flag: tr.querySelector('td.gradient').dataset.flag,
             p50: parseFloat(tr.querySelector('td.act').dataset.p50),
             ratio: tr.querySelector('td.ratio').dataset.value,
             bars: tr.querySelectorAll('td.act svg rect.bar').length }))"""
    )
    for row, layer in zip(shown, diag["layers"], strict=True):
        assert row["name"] == layer["name"]
        for key in ("dead", "saturated", "symmetry"):
            assert row[key] == layer[key], (key, row, layer)
        assert row["flag"] == layer["grad_flag"]
        assert row["p50"] == layer["activation"]["bands"]["p50"]
        assert row["bars"] == sum(1 for c in layer["activation"]["counts"] if c)
        assert float(row["ratio"]) > 0  # live update/weight ratio from the metrics frames
    init = page.locator("#diag-init")
    assert float(init.get_attribute("data-expected")) == diag["loss_at_init"]["expected"]
    assert math.isclose(diag["loss_at_init"]["expected"], math.log(3), rel_tol=1e-3)
    page.screenshot(path=str(artifacts / "playground-diagnostics.png"), full_page=True)
    page.locator("#diagnostics").screenshot(path=str(artifacts / "diagnostics-panel.png"))

    # Temperature view: click a point of the boundary plot between the blobs.
    drag = page.locator("#plot-boundary .nsewdrag")
    box = drag.bounding_box()
    drag.click(position={"x": box["width"] * 0.55, "y": box["height"] * 0.45})
    wait_js(page, "document.getElementById('temperature').dataset.state === 'live'")
    point = page.locator("#temp-point")
    x1, x2 = float(point.get_attribute("data-x1")), float(point.get_attribute("data-x2"))
    assert abs(x1 - 0.6) <= 0.5 and abs(x2 - 0.6) <= 0.5  # near the clicked spot
    grid = diag["logits"]
    col, row = round((x1 + 6) / 0.5), round((x2 + 6) / 0.5)
    z_server = np.asarray(grid["values"][row * grid["size"] + col])
    z_numpy = numpy_logits(snap, x1, x2)
    assert np.allclose(z_server, z_numpy, atol=2e-2), (z_server, z_numpy)
    entropies = []
    for t in (1.0, 0.3, 3.0):
        set_temperature(page, t)
        wait_js(page, f"parseFloat(document.getElementById('temp-point').dataset.t) === {t}")
        probs = np.asarray(bars(page))
        assert np.allclose(probs, softmax(z_server, t), atol=1e-9)  # the page's arithmetic
        assert np.allclose(probs, softmax(z_numpy, t), atol=1e-2)  # independent of the server
        h = float(page.get_attribute("#temp-entropy", "data-value"))
        assert math.isclose(h, float(-(probs * np.log(probs)).sum()), rel_tol=1e-9)
        entropies.append((t, h, int(np.argmax(probs))))
    (_, h1, best1), (_, h03, best03), (_, h3, best3) = entropies
    assert h03 < h1 < h3 <= math.log(3) + 1e-9  # sharper below 1, flatter above
    assert best1 == best03 == best3  # the winner never changes
    page.locator("#temperature").screenshot(path=str(artifacts / "temperature-view.png"))
    assert page.evaluate("window.__csp") == []  # the strict CSP holds on every page part


def test_a_zero_init_lesson_member_autoplays_with_the_symmetry_meter_at_one(
    page: Any, server: LiveServer, artifacts: Path
) -> None:
    page.add_init_script(WATCH_CSP)
    page.goto(server.http + "/lessons/zero-init")
    assert page.evaluate("window.__csp") == []
    page.locator("li:has(b:text-is('zeros')) a.play-member").click()
    page.wait_for_url("**/?*i=zeros*#lesson=zero-init")  # autoplay dropped from the URL
    wait_js(page, "document.getElementById('transport').dataset.run !== ''")
    wait_js(page, f"{ROWS} === 2")
    wait_js(page, "document.getElementById('status').dataset.status === 'finished'", 120_000)
    symmetry = page.evaluate(
        "[...document.querySelectorAll('#diag-rows td.symmetry')].map(td => td.dataset.value)"
    )
    assert symmetry == ["1", "1"]
    assert "clone" in page.get_attribute("#diag-rows td.symmetry", "title")
    # All-zero weights output 0, p = 1/2 everywhere: the loss at init is exactly chance, log 2.
    actual = float(page.get_attribute("#diag-init", "data-actual"))
    assert (
        abs(actual - math.log(2)) < 1e-3 and page.get_attribute("#diag-init", "data-ok") == "true"
    )
    assert page.evaluate("window.__csp") == []
    # A binary head in the temperature view: its logit z is read as [0, z], so p1 = sigmoid(z/T).
    run_id = page.get_attribute("#transport", "data-run")
    grid = final_snapshot(server, run_id)["snapshot"]["diagnostics"]["logits"]
    assert grid["binary"]
    (z,) = grid["values"][12 * 25 + 12]  # the default point (0, 0) is the centre node
    set_temperature(page, 2.0)
    wait_js(page, "parseFloat(document.getElementById('temp-point').dataset.t) === 2")
    p0, p1 = bars(page)
    assert math.isclose(p1, 1 / (1 + math.exp(-z / 2.0)), rel_tol=1e-9) and math.isclose(p0 + p1, 1)
    page.screenshot(path=str(artifacts / "lesson-zero-init-playground.png"), full_page=True)
