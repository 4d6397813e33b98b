"""The app inside a cross-site iframe, as a Hugging Face Space shows it: a page on
another loopback origin frames the demo, and the visitor in the frame can Play, Pause
and Stop (Reset) its own run. Closed by default: frame-ancestors 'none' blanks the frame.

Origins: the app is served as http://127.0.0.1:<port> and the framing page as
http://localhost:<port>, two different *sites* (a port alone would not make the
frame cross-site). Chromium treats both loopback hosts as secure contexts, so the
`Secure; SameSite=None; Partitioned` cookie is kept over plain http, as it is over
https on a platform.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import wait_js
from tests.web.service import LiveServer, make_settings, wait_for

PARENT_ORIGIN = "http://localhost"  # + the framing server's port
LOSS_POINTS = "document.getElementById('chart-loss').data?.[0]?.y?.filter(v => v !== null) ?? []"


def framing_server(target: str) -> tuple[ThreadingHTTPServer, str]:
    """A page on another site whose only content is an iframe of `target`."""

    class Parent(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (
                "<!doctype html><title>embedding page</title>"
                f'<iframe id="app" src="{target}" width="1300" height="950"></iframe>'
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Parent)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"{PARENT_ORIGIN}:{httpd.server_address[1]}/"


@pytest.fixture(scope="module")
def embeddable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_settings(
        tmp_path_factory.mktemp("embed"),
        demo=True,  # owner-only controls: a lost cookie would make every click a 403
        workers=2,
        frame_ancestors=f"{PARENT_ORIGIN}:*",
    )
    with LiveServer(settings) as live:
        yield live


def app_frame(page: Any) -> Any:
    def loaded() -> Any:
        frames = [f for f in page.frames if f is not page.main_frame]
        return frames[0] if frames and frames[0].url.startswith("http") else None

    return wait_for(loaded, 60, "the framed app")


def run_status(live: LiveServer, page: Any, run_id: str) -> str:
    # Asked by the top page's context, outside the frame: the server's word, not the UI's.
    url = f"{live.http}/api/v1/runs/{run_id}"
    return str(page.request.get(url).json()["status"])


def test_framed_app_plays_pauses_and_stops_its_own_run(
    browser: Any, embeddable: LiveServer, artifacts: Path
) -> None:
    httpd, parent = framing_server(embeddable.http + "/")
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(parent)
        frame = app_frame(page)
        frame.wait_for_selector("#btn-play")
        cookies = [c for c in context.cookies(embeddable.http) if c["name"] == "bp_visitor"]
        assert cookies and cookies[0]["sameSite"] == "None" and cookies[0]["secure"], cookies

        assert frame.is_checked("input[name='train.until_paused'][type='checkbox']")
        frame.click("#btn-play")
        curve = f"(() => {{ const y = {LOSS_POINTS}; return y.length >= 5 && y; }})()"
        assert len(wait_js(frame, curve)) >= 5
        run_id = frame.input_value("#run-id")
        assert run_id and run_status(embeddable, page, run_id) == "running"

        frame.click("#btn-pause")  # owner-only: works only if the frame kept its cookie
        wait_js(frame, "document.getElementById('status').dataset.status === 'paused'")
        wait_for(lambda: run_status(embeddable, page, run_id) == "paused", 30, "paused")
        page.screenshot(path=str(artifacts / "embedded.png"))

        frame.click("#btn-reset")  # the playground's stop: ends this visitor's run
        wait_for(lambda: run_status(embeddable, page, run_id) == "stopped", 30, "stopped")
    finally:
        context.close()
        httpd.shutdown()
        httpd.server_close()
    assert not errors, errors


def test_frames_are_refused_by_default(browser: Any, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, workers=1)
    with LiveServer(settings) as live:
        httpd, parent = framing_server(live.http + "/")
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(parent)
            page.wait_for_timeout(1500)
            frames = [f for f in page.frames if f is not page.main_frame]
            # Chromium replaces a frame its CSP refuses with an error page.
            assert frames and not frames[0].url.startswith(live.http), frames[0].url
        finally:
            context.close()
            httpd.shutdown()
            httpd.server_close()
