"""The hosted demo in headless Chromium: the page works under the strict CSP (htmx, the
socket, Plotly charts) with no policy violation, the demo limits show, another visitor
may watch but not control, and a page on another origin cannot open a run's socket."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import BOUNDARY_PAINTED, wait_js
from tests.web.service import LiveServer, make_settings

LOSS_POINTS = "document.getElementById('chart-loss').data?.[0]?.y?.filter(v => v !== null) ?? []"
# Collected before any page script runs (init scripts are injected over DevTools, not
# subject to the page's CSP): every violation the browser reports.
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sample);
});
"""
SOCKET_PROBE = """
(url) => new Promise((resolve) => {
  const ws = new WebSocket(url);
  ws.onmessage = () => { ws.close(); resolve('message'); };
  ws.onerror = () => resolve('error');
  ws.onclose = (e) => resolve('closed ' + e.code);
  setTimeout(() => resolve('timeout'), 10000);
})
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path_factory.mktemp("demo"), demo=True, workers=2)
    with LiveServer(settings) as live:
        yield live


class _Blank(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>elsewhere</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[str]:
    """Another origin: a plain page on another port of 127.0.0.1, without any CSP."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Blank)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def new_page(browser: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: m.type == "error" and console.append(m.text))
    page.on("pageerror", lambda e: console.append(str(e)))
    return context, page, console


def test_demo_page_under_csp_and_ownership(
    browser: Any, demo: LiveServer, elsewhere: str, artifacts: Path
) -> None:
    context, page, console = new_page(browser)
    response = page.goto(demo.http + "/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    limits = page.inner_text("#demo-limits")
    assert "Demo limits" in limits
    page.click("#demo-limits summary")
    assert "6 hidden layers of 32 units" in page.inner_text("#demo-limits")

    assert page.is_checked("input[name='train.until_paused'][type='checkbox']")
    page.click("#btn-play")  # until paused: the demo's cap, 1,000 epochs at the page's pace
    points = wait_js(page, f"(() => {{ const y = {LOSS_POINTS}; return y.length >= 10 && y; }})()")
    assert points[-1] < points[0], points
    wait_js(page, BOUNDARY_PAINTED)  # the decision boundary's pixels, on its canvas
    run_id = page.input_value("#run-id")
    assert run_id
    page.screenshot(path=str(artifacts / "demo-csp.png"))

    # Another visitor (a fresh browser context): may watch the socket, may not pause.
    other, other_page, other_console = new_page(browser)
    other_page.goto(demo.http + "/")
    ws_url = demo.ws + f"/ws/runs/{run_id}"
    assert other_page.evaluate(SOCKET_PROBE, ws_url) == "message"
    status = other_page.evaluate(
        "(u) => fetch(u, {method: 'POST'}).then(r => r.status)",
        demo.http + f"/ui/runs/{run_id}/pause",
    )
    assert status == 403
    # The owner may (on a machine so slow that the 1,000 epochs at 120 a second, ~8 s, are
    # over by now, the answer is about the run's state: never a refusal of ownership).
    answer = page.request.post(demo.http + f"/ui/runs/{run_id}/pause")
    assert answer.status in (204, 409), answer.status
    if answer.status == 200 and "paused" in answer.text():
        wait_js(page, "document.getElementById('status').dataset.status === 'paused'")
    assert page.evaluate("window.__csp") == [] and other_page.evaluate("window.__csp") == []
    assert console == []
    assert other_console == [  # the refused pause, nothing else
        "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    ]

    # A page from another origin cannot open the socket (the server refuses the handshake).
    other_page.goto(elsewhere)
    assert other_page.evaluate(SOCKET_PROBE, ws_url) in ("error", "closed 1006")
    page.click("#btn-reset")
    other.close()
    context.close()
