"""The diagnostics card for the recurrent and transformer families in headless Chromium: it
shows (the point families' temperature and landscape cards do not), fills from the run's
own frames with the family's layer names, its gate and attention rows, and the console stays
clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.nn.families.registry import FAMILIES
from tests.e2e.conftest import landscape_of_finished_run, wait_js
from tests.e2e.test_console_clean import record_console
from tests.e2e.test_playground import settle
from tests.web.service import LiveServer

WEIGHT_ROWS = """[...document.querySelectorAll('#diag-rows tr[data-layer]')].map(tr => ({
  name: tr.dataset.layer,
  grad: parseFloat(tr.querySelector('td.gradient').dataset.value),
  flag: tr.querySelector('td.gradient').dataset.flag,
  dead: tr.querySelector('td.dead').dataset.value }))"""
RATIOS = """(() => { const r = [...document.querySelectorAll('#diag-rows td.ratio')]
  .map(td => parseFloat(td.dataset.value)); return r.length && r.every(v => v > 0) && r; })()"""
SITE_ROWS = """[...document.querySelectorAll('#diag-site-rows tr[data-site]')].map(tr => ({
  name: tr.dataset.site,
  saturated: parseFloat(tr.querySelector('td.saturated').dataset.value),
  bars: tr.querySelectorAll('td.act svg rect.bar').length }))"""
HEAD_ROWS = """[...document.querySelectorAll('#diag-attn-rows tr[data-head]')].map(tr => ({
  name: tr.dataset.head,
  entropy: parseFloat(tr.querySelector('td.entropy').dataset.value) }))"""


# The frame the page holds and what its tables show, read in one evaluation: a newer frame
# (two a second) cannot land between the two reads.
FILLED = f"""(() => {{ const d = window.__bpDiag;
  if (!(d.frames >= 2)) return false;
  return {{ frame: d.diag, rows: {WEIGHT_ROWS}, sites: {SITE_ROWS}, heads: {HEAD_ROWS} }}; }})()"""


def shown(page: Any, selector: str) -> bool:
    return bool(
        page.evaluate(
            f"(() => {{ const e = document.querySelector('{selector}');"
            " return !!e && e.getClientRects().length > 0; })()"
        )
    )


def choose(page: Any, server: LiveServer, family: str) -> None:
    page.goto(server.http + "/")
    page.select_option("select[name='family']", family)
    page.wait_for_url(lambda url: f"fam={family}" in url)
    settle(page)
    assert shown(page, "#diagnostics")
    assert not shown(page, "#temperature")  # it reads logits on the input square
    assert shown(page, "#landscape-card") == ("landscape" in FAMILIES[family].views)


def check_weight_rows(page: Any, got: dict[str, Any], names: list[str]) -> None:
    frame, rows = got["frame"], got["rows"]
    assert [r["name"] for r in rows] == names == [layer["name"] for layer in frame["layers"]]
    for row, layer in zip(rows, frame["layers"], strict=True):
        assert row["grad"] == layer["grad_norm"] > 0 and row["flag"] == layer["grad_flag"]
    # Update / weight ratios arrive live with the metrics frames, one per weight row.
    ratios = wait_js(page, RATIOS)
    assert len(ratios) == len(names) and all(r > 0 for r in ratios)


def finish(page: Any) -> None:
    if page.is_enabled("#btn-pause"):
        page.click("#btn-pause")
        page.wait_for_timeout(300)


def test_the_card_fills_for_an_lstm_run(page: Any, server: LiveServer, artifacts: Path) -> None:
    errors = record_console(page)
    choose(page, server, "rnn")
    assert page.input_value("select[name='rnn.cell']") == "lstm"  # the family's default
    page.click("#btn-play")
    got = wait_js(page, FILLED)
    frame, sites = got["frame"], got["sites"]
    head = [layer["name"] for layer in frame["layers"]][2:]  # the dense head's hidden layers
    check_weight_rows(page, got, ["r1.in", "r1.rec", *head])
    assert [s["name"] for s in sites] == ["r1", "r1.i", "r1.f", "r1.g", "r1.o"]
    assert [s["name"] for s in sites] == [a["name"] for a in frame["activations"]]
    for site, got in zip(sites, frame["activations"], strict=True):
        assert site["saturated"] == got["saturated"] and site["bars"] > 0
    assert page.is_hidden("#diag-attn")  # no attention in a recurrent net
    assert "step" in page.inner_text("#diag-caption")
    assert page.get_attribute("#diag-flags", "data-state") in ("ok", "saturated", "dead")
    page.locator("#diagnostics").screenshot(path=str(artifacts / "diagnostics-rnn.png"))
    finish(page)
    assert not errors, errors[:5]


def test_the_card_fills_for_a_transformer_run(
    page: Any, server: LiveServer, artifacts: Path
) -> None:
    errors = record_console(page)
    choose(page, server, "transformer")
    page.click("#btn-play")
    got = wait_js(page, FILLED)
    frame, heads = got["frame"], got["heads"]
    blocks = frame["attention"][-1]["block"]
    names = ["embed"] + [
        f"b{i}.{w}" for i in range(1, blocks + 1) for w in ("qkv", "out", "ffn1", "ffn2")
    ]
    check_weight_rows(page, got, names)
    assert [h["name"] for h in heads] == [a["name"] for a in frame["attention"]]
    for h, a in zip(heads, frame["attention"], strict=True):
        assert h["entropy"] == a["entropy"] > 0
    assert page.is_hidden("#diag-sites")  # every site is a weight layer's output here
    page.locator("#diagnostics").screenshot(path=str(artifacts / "diagnostics-transformer.png"))
    finish(page)
    assert not errors, errors[:5]


def test_a_recurrent_runs_landscape_is_centred_on_its_final_loss(
    page: Any, server: LiveServer
) -> None:
    """The landscape card on a recurrent page: computed for the finished run (the landscape
    pool, the family's data loss) and centred on the run's own final training loss."""
    # The module's other runs train until paused and hold the workers: stop them first.
    for r in page.request.get(f"{server.http}/api/runs").json()["runs"]:
        if r["status"] in ("running", "paused", "queued"):
            page.request.post(f"{server.http}/api/runs/{r['id']}/stop")
    page.goto(server.http + "/?fam=rnn&ep=3&up=0&rnn=samples:200")
    page.click("#btn-play")
    wait_js(page, "document.getElementById('status').dataset.status === 'finished'", 90_000)
    run_id = page.evaluate("document.getElementById('transport').dataset.run")
    run = page.request.get(f"{server.http}/api/runs/{run_id}").json()
    assert shown(page, "#landscape-card")
    assert landscape_of_finished_run(page, run, tol=1e-5)[0] == "contour"
