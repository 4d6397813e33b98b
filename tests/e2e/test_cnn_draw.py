"""Draw-your-own digit in headless Chromium (issue 17): strokes on the 8x8 pad of a digits
run reach the worker (the view_pixels live change) and the input, probabilities and
feature maps switch to the drawing, while training and while paused; a click on a test
image switches back. No console errors or CSP refusals on the way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import wait_js
from tests.e2e.test_console_clean import record_console
from tests.web.service import LiveServer

PROBS = "[...document.querySelectorAll('#cnn-probs .value')].map(e => e.textContent).join(',')"
PAD_INK = """(() => { const c = document.getElementById('cnn-pad');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let dark = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 100) dark++; return dark; })()"""

HIT = "([x, y]) => document.elementFromPoint(x, y)?.id === 'cnn-pad'"


def stroke(page: Any, points: list[tuple[float, float]], finger: bool = False) -> None:
    """A mouse (or finger: touch events through the DevTools protocol) stroke through
    points given in pad cells (0..8)."""
    pad = page.locator("#cnn-pad")
    for _ in range(50):  # the mouse works in the viewport's coordinates: wait for a still pad
        # the middle of the viewport: at its top edge the sticky header would cover the pad
        page.evaluate("document.getElementById('cnn-pad').scrollIntoView({block: 'center'})")
        box = pad.bounding_box()
        xy = [
            (box["x"] + x / 8 * box["width"], box["y"] + y / 8 * box["height"]) for x, y in points
        ]
        page.wait_for_timeout(100)
        if box == pad.bounding_box() and page.evaluate(HIT, list(xy[0])):
            break
    else:
        raise AssertionError(f"the pad does not hold still under the mouse: {box}")
    if finger:
        cdp = page.context.new_cdp_session(page)
        for kind, (x, y) in [("touchStart", xy[0]), *[("touchMove", p) for p in xy[1:]]]:
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        cdp.detach()
        return
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=4)
    page.mouse.up()


def test_drawing_a_digit_makes_the_views_look_at_it(
    page: Any, server: LiveServer, artifacts: Path
) -> None:
    errors = record_console(page)
    page.goto(server.http + "/?fam=cnn")
    page.wait_for_selector("#cnn-filters", state="visible")
    assert not page.is_visible("#cnn-draw")  # no run yet: nothing to draw for
    page.click("#btn-play")
    wait_js(page, "window.__cnn && window.__cnn.pictures >= 2 && window.__cnn.step > 0")
    assert page.is_visible("#cnn-draw") and page.evaluate("window.__pad.shown")

    # While training: a "7", a bar and a diagonal.
    stroke(page, [(1.5, 1.5), (6.5, 1.5), (3.0, 7.0)])
    assert page.evaluate(PAD_INK) > 0  # painted, read back once
    assert page.evaluate("window.__pad.ink") > 16
    wait_js(page, "!window.__pad.busy && window.__cnn.viewed === 'drawn'")
    assert page.inner_text("#cnn-input-caption") == "your drawing (the pad)"
    assert page.evaluate("window.__pad.error") == ""
    assert not page.locator("#cnn-gallery figure.chosen").count()

    # A test image again, then pause: its probabilities hold still.
    page.click("#cnn-gallery figure[data-index='3']")
    wait_js(page, "window.__cnn.viewed === 3")
    page.click("#btn-pause")
    wait_js(page, "document.getElementById('status').dataset.status === 'paused'")
    page.wait_for_timeout(300)  # the pause's own picture arrives
    test_probs = page.evaluate(PROBS)
    drawn_at = page.evaluate("window.__cnn.pictures")

    # Paused: a new stroke is answered with a picture of the drawing at once.
    strokes = page.evaluate("window.__pad.strokes")
    stroke(page, [(4.0, 1.0), (4.0, 7.0)])
    assert page.evaluate("window.__pad.strokes") == strokes + 1
    wait_js(page, f"window.__cnn.viewed === 'drawn' && window.__cnn.pictures > {drawn_at}")
    drawn_probs = page.evaluate(PROBS)
    assert drawn_probs != test_probs, drawn_probs
    assert page.locator("#cnn-probs .cnn-prob").count() == 10
    assert page.locator("#cnn-maps canvas").count() > 0
    page.locator(".cnn-probe").screenshot(path=str(artifacts / "cnn-draw.png"))

    # A finger draws too (the pad takes pointer events and does not scroll under touch).
    ink, strokes = page.evaluate("[window.__pad.ink, window.__pad.strokes]")
    stroke(page, [(1.0, 5.0), (3.0, 5.0), (5.0, 5.0), (7.0, 5.0)], finger=True)
    wait_js(page, f"window.__pad.strokes === {strokes + 1} && window.__pad.ink > {ink}")

    # Erase everything and clear: still a valid drawing (blank), still no error.
    page.click("#cnn-pad-clear")
    # (the pad's levels, not its pixels: a second readback makes Chromium warn)
    wait_js(page, "window.__pad.applied >= 3 && window.__pad.ink === 0")
    assert page.evaluate("window.__pad.error") == ""
    assert not errors, errors


def test_a_reopened_run_shows_its_drawing_on_the_pad(page: Any, server: LiveServer) -> None:
    page.goto(server.http + "/?fam=cnn")
    page.wait_for_selector("#cnn-filters", state="visible")
    page.click("#btn-play")
    wait_js(page, "window.__cnn && window.__cnn.pictures >= 2 && window.__cnn.step > 0")
    stroke(page, [(1.5, 1.5), (6.5, 1.5), (3.0, 7.0)])
    wait_js(page, "!window.__pad.busy && window.__cnn.viewed === 'drawn'")
    page.click("#btn-pause")
    wait_js(page, "document.getElementById('status').dataset.status === 'paused'")
    levels = page.evaluate("window.__pad.ink")
    assert levels > 16
    run_id = page.evaluate("document.getElementById('transport').dataset.run")
    page.goto(f"{server.http}/runs/{run_id}")  # a reload, or the reattach offer's 'watch'
    wait_js(page, "window.__cnn && window.__cnn.viewed === 'drawn'")
    wait_js(page, f"window.__pad.shown && window.__pad.ink === {levels}", 10_000)
    assert page.evaluate(PAD_INK) > 0  # painted, not only held
