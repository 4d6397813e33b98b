"""/docs in a browser with no internet: Swagger UI comes from /static/vendor, not a CDN, and
runs under the site's CSP with no console errors (issue 14). /redoc is dropped."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.e2e.conftest import wait_js
from tests.web.service import LiveServer


def test_docs_render_offline_without_console_errors(page: Any, server: LiveServer) -> None:
    off_host: list[str] = []
    console: list[str] = []

    def only_local(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:  # as offline: anything from elsewhere fails
            off_host.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.goto(server.http + "/docs")
    # The operations of the API are listed: Swagger UI loaded, fetched and drew the schema.
    count = wait_js(page, "document.querySelectorAll('.opblock').length", 30_000)
    assert count >= 10
    assert page.locator(".opblock-summary-path", has_text="/runs").count() > 0
    page.locator(".opblock-summary", has_text="/runs/{run_id}").first.click()
    page.wait_for_selector(".opblock-body")  # an operation opens (parameters, responses)
    page.wait_for_timeout(300)
    assert not off_host, off_host
    assert not console, console


def test_docs_page_has_no_cdn_and_redoc_is_gone(server: LiveServer) -> None:
    docs = httpx.get(server.http + "/docs")
    assert docs.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text and "<script>" not in docs.text  # no inline bootstrap
    csp = docs.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "http" not in csp
    assert httpx.get(server.http + "/static/vendor/swagger-ui/swagger-ui.css").status_code == 200
    assert httpx.get(server.http + "/redoc").status_code == 404
