"""A sequence-length sweep on the Compare page in headless Chromium (issue 18): the
recurrent preset fills the members, Play trains them, and the sweep card draws each model's
test score against T with the first T it fails at, the numbers the API reports."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from tests.e2e.conftest import wait_js
from tests.web.service import LiveServer

# A small recurrent base: the adding problem, 60 sequences, 3 units, one epoch.
BASE = "fam=rnn&rnn=dataset:adding,samples:60,hidden:3&ep=1&s=6"
ROWS = (
    "[...document.querySelectorAll('#cmp-sweep-table tbody tr')].map(tr => "
    "[tr.dataset.series, [...tr.querySelectorAll('td[data-length]')]"
    ".map(td => [Number(td.dataset.length), td.textContent, td.dataset.fails === '1']), "
    "tr.lastElementChild.textContent])"
)


def test_the_length_sweep_preset_trains_and_shows_where_each_model_fails(
    page: Any, server: LiveServer, artifacts: Path
) -> None:
    page.goto(f"{server.http}/compare?{BASE}&m=-&m=-")
    assert page.locator("#cmp-sweep-card").is_hidden()
    page.click("button[data-preset='length-sweep']")
    wait_js(page, "document.querySelectorAll('.member').length === 8")
    wait_js(page, "location.search.includes('T%3D100') || location.search.includes('T=100')")
    page.click("#cmp-play")
    wait_js(
        page,
        "['finished','stopped','diverged','failed'].includes("
        "document.getElementById('cmp-status').dataset.status)",
        240_000,
    )
    wait_js(
        page,
        "document.querySelectorAll('#cmp-sweep-table td[data-length]').length === 8 && "
        "[...document.querySelectorAll('#cmp-sweep-table td[data-length]')]"
        ".every(td => /\\d/.test(td.textContent))",
    )
    assert page.locator("#cmp-sweep-card").is_visible()
    cid = page.get_attribute("#cmp-transport", "data-comparison")
    with urllib.request.urlopen(f"{server.http}/api/comparisons/{cid}") as response:
        view = json.load(response)
    assert view["status"] == "finished"
    sweep = view["sweep"]
    rows = page.evaluate(ROWS)
    assert [r[0] for r in rows] == [s["label"] for s in sweep["outcome"]]
    for (label, cells, fails_at), series in zip(rows, sweep["outcome"], strict=True):
        points = [[p["length"], f"{p['score']:.4f}", p["fails"]] for p in series["points"]]
        assert cells == points, label
        want = f"T={series['fails_at']}" if series["fails_at"] else "none of these"
        assert fails_at == want
    # The chart: chance, the fail line and one line per model, x = the lengths.
    traces = page.evaluate(
        "document.getElementById('cmp-sweep').data.map(t => [t.name, t.x.map(Number)])"
    )
    assert [t[0] for t in traces] == ["chance", "fails above", "RNN (tanh)", "LSTM"]
    assert all(t[1] == [10, 25, 50, 100] for t in traces)
    page.locator("#cmp-sweep-card").screenshot(path=str(artifacts / "compare-sweep.png"))


def test_the_playgrounds_compare_link_opens_this_experiments_cells(
    page: Any, server: LiveServer
) -> None:
    page.goto(f"{server.http}/?fam=rnn&rnn=dataset:parity,length:6,samples:40&ep=1")
    page.select_option("select[name='rnn.cell']", "gru")  # the link follows the form
    wait_js(page, "location.search.includes('cell:gru')")
    page.click("a[data-cmp-preset='cells']")
    page.wait_for_url(lambda url: "/compare?" in url and "m=" in url)
    assert page.locator(".member").count() == 3
    assert page.input_value("select[name='rnn.dataset']") == "parity"
    assert page.input_value("input[name='rnn.length']") == "6"
    labels = page.eval_on_selector_all(".member-label", "els => els.map(e => e.value)")
    assert labels == ["RNN (tanh)", "GRU", "LSTM"]
