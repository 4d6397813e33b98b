"""The recurrent family in the browser: the family choice lists the registry's families and
swaps the page's controls and views; Play draws the hidden state, the gates, ||dL/dh_t||
and the answer over time from the run's own snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.nn.families.registry import FAMILIES
from tests.e2e.conftest import wait_js
from tests.e2e.test_playground import settle
from tests.web.service import LiveServer

HIDDEN_PAINTED = """(() => { const c = document.getElementById('seq-hidden');
  if (!c || c.width < 2) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let colours = new Set();
  for (let i = 0; i < d.length; i += 4) colours.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]);
  return colours.size > 3 && [c.width, c.height]; })()"""


def test_choose_the_recurrent_family_play_and_watch_through_time(
    page: Any, server: LiveServer, artifacts: Path
) -> None:
    page.goto(server.http + "/")
    options = page.eval_on_selector_all(
        "select[name='family'] option", "els => els.map(e => e.value)"
    )
    assert options == FAMILIES.keys()  # every registered family, from the registry
    assert page.is_visible("#plot-boundary") and not page.is_visible("#sequence-card")
    page.select_option("select[name='family']", "rnn")  # the page reloads with its defaults
    page.wait_for_url(lambda url: "fam=rnn" in url)
    page.wait_for_selector("select[name='rnn.cell']")
    assert not page.is_visible("#plot-boundary") and page.is_visible("#sequence-card")
    assert page.locator("input[name='data.features']").count() == 0
    # The family's own controls round-trip through the server and the URL.
    page.select_option("select[name='rnn.cell']", "gru")
    wait_js(page, "location.search.includes('cell:gru')")
    settle(page)
    page.fill("input[name='rnn.length']", "999")
    page.dispatch_event("input[name='rnn.length']", "change")
    error = page.wait_for_selector(".error[data-field='rnn.length']")
    assert "200" in error.inner_text()
    page.fill("input[name='rnn.length']", "30")
    page.dispatch_event("input[name='rnn.length']", "change")
    wait_js(page, "location.search.includes('length:30')")
    settle(page)

    page.click("#btn-play")
    size = wait_js(page, HIDDEN_PAINTED)
    assert size == [30, 32]  # one column per time step, one row per hidden unit
    stats = wait_js(page, "window.__bpSeq.pictures >= 2 && window.__bpSeq")
    assert stats["gates"] == ["r", "z"] and stats["length"] == 30
    grad = page.evaluate("document.getElementById('seq-grad').data[0].y")
    assert len(grad) == 30 and all(g is None or g > 0 for g in grad)
    assert page.evaluate("document.getElementById('seq-grad').layout.yaxis.type") == "log"
    pred = page.evaluate("document.getElementById('seq-pred').data.map(t => t.y.length)")
    assert pred == [30, 30]
    # Another test sequence, chosen while paused: the worker answers with its picture.
    page.click("#btn-pause")
    wait_js(page, "document.getElementById('status').dataset.status === 'paused'")
    page.click("#seq-next")
    wait_js(page, "window.__bpSeq.index === 1")
    assert "sequence 2 of the test split" in page.inner_text("#seq-caption")
    page.fill("#seq-index", "5")
    page.dispatch_event("#seq-index", "change")
    wait_js(page, "window.__bpSeq.index === 4")
    # The lines are stroked on a canvas over Plotly's axes (static/js/rnn/lines.js): far
    # fewer Plotly redraws than pictures, and a second after the last picture Plotly holds
    # its values (hover).
    stats = page.evaluate("window.__bpSeq")
    assert 0 < stats["syncs"] < stats["pictures"], stats
    wait_js(
        page,
        "(() => { const d = document.getElementById('seq-pred').data;"
        " return d[1].y[d[1].y.length - 1] === window.__bpSeq.answer; })()",
    )
    stroked = page.evaluate(
        "(() => { const c = document.querySelector('#seq-grad canvas.chart-lines');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n; })()"
    )
    assert stroked > 100  # the ||dL/dh_t|| line's pixels
    page.click("#btn-play")
    # The shared charts follow the run: a curve per recurrent layer's weights.
    names = wait_js(
        page,
        "(() => { const d = document.getElementById('chart-grad').data || [];"
        " return d.length >= 3 && d.map(t => t.name); })()",
    )
    assert names[:3] == ["r1.in", "r1.rec", "out"]
    page.screenshot(path=str(artifacts / "playground-rnn.png"), full_page=True)

    # Back to the dense family: its views return.
    page.select_option("select[name='family']", "mlp")
    page.wait_for_url(lambda url: "fam=" not in url)
    page.wait_for_selector("#plot-boundary", state="visible")
    assert not page.is_visible("#sequence-card")
