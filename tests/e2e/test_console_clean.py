"""The pages run with zero console errors under the site's CSP (issue 14: Plotly's inline
styles were refused ~39 times a second once a log axis showed exponents)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import wait_js
from tests.web.service import LiveServer

LOSS_Y = "document.getElementById('chart-loss').data?.[0]?.y?.filter(v => v !== null) ?? []"


def record_console(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    # A refused inline style is also reported as an event (with what was refused).
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => "
        "console.error('CSP ' + e.violatedDirective + ': ' + e.sample))"
    )
    return errors


@pytest.mark.slow
def test_training_with_log_axes_makes_no_console_errors(page: Any, server: LiveServer) -> None:
    errors = record_console(page)
    page.goto(server.http + "/?d=plane&nz=0&ep=3000&n=200&o=adam&lr=0.03")
    page.check("#opt-logy")
    page.click("#btn-play")
    wait_js(page, f"(() => {{ const y = {LOSS_Y}; return y.length >= 20; }})()", 90_000)
    page.wait_for_timeout(2000)  # keep drawing
    if page.is_enabled("#btn-pause"):  # the fused engine may have finished the run already
        page.click("#btn-pause")
        page.wait_for_timeout(300)
    assert not errors, errors[:5]


def test_exponent_labels_and_text_tags_pass_the_csp(page: Any, server: LiveServer) -> None:
    """A log axis beyond the SI range (vanishing gradients reach 1e-20) labels its ticks
    10<sup>-18</sup>: Plotly styles the exponent inline, ~39 refusals a second before."""
    errors = record_console(page)
    page.goto(server.http + "/")
    wait_js(page, "window.Plotly && document.getElementById('chart-grad')")
    tags = "<b>b</b> <i>i</i> <em>em</em> <u>u</u> <s>s</s> x<sub>1</sub> <a href='/'>a</a>"
    page.evaluate(
        """(tags) => Plotly.react('chart-grad',
            [{y: [1, 1e-5, 1e-12, 1e-20], mode: 'lines'}],
            {title: {text: tags}, yaxis: {type: 'log'}})""",
        tags,
    )
    sup = wait_js(
        page,
        "[...document.querySelectorAll('#chart-grad .ytick tspan')]"
        ".map(t => t.getAttribute('style')).find(s => s && s.includes('70%'))",
    )
    assert sup == "font-size:70%"
    styles = page.evaluate(
        "[...document.querySelectorAll('#chart-grad .gtitle tspan')]"
        ".map(t => getComputedStyle(t).fontWeight + '/' + getComputedStyle(t).fontStyle)"
    )
    assert "700/normal" in styles and "400/italic" in styles, styles  # applied, not refused
    page.wait_for_timeout(500)
    assert not errors, errors[:5]


@pytest.mark.slow
def test_compare_and_race_pages_make_no_console_errors(page: Any, server: LiveServer) -> None:
    errors = record_console(page)
    for path in (
        "/compare",
        "/race",
        "/lessons",
        "/lessons/backprop",
        "/explore",
        "/runs",
        "/docs",
    ):
        page.goto(server.http + path)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
    assert not errors, errors[:5]
