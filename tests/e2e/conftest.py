"""Browser tests: Debian's chromium driven by Playwright, against the real app on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.service import LiveServer, make_settings

CHROMIUM = os.environ.get("PLAYGROUND_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The output picture is painted on a canvas under the plot (static/js/playground/boundary.js).
BOUNDARY_PAINTED = """(() => { const c = document.getElementById('boundary-canvas');
  if (!c || !c.width) return false;
  return c.getContext('2d').getImageData(c.width >> 1, c.height >> 1, 1, 1).data[3] === 255; })()"""
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope: Playwright's sync API keeps an event loop running in this thread while
    # open, which would break later tests that call asyncio.run().
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path_factory.mktemp("e2e"))
    with LiveServer(settings) as live:
        yield live


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.js_errors = errors
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def wait_js(page: Any, expression: str, timeout: float = 60_000) -> Any:
    """Poll a JS expression until truthy and return its value.

    Evaluated through the DevTools protocol, so the app's CSP (no 'unsafe-eval') holds:
    Playwright's own wait_for_function compiles its predicate with eval and is refused."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)


def landscape_of_finished_run(page: Any, run: dict[str, Any], tol: float) -> list[str]:
    """Compute the landscape card of the page's finished run on an 11x11 grid: it is of the
    run's last step and centred on its final training loss (within `tol`). Returns the
    surface plot's trace types."""
    page.fill("#ls-steps", "11")
    page.click("#btn-landscape")
    last = wait_js(page, "window.__bpLandscape.computed && window.__bpLandscape.last", 90_000)
    assert last["grid"] == 11 and last["step"] == run["summary"]["step"]
    assert abs(last["centre"] - run["summary"]["final"]["train_loss"]) < tol
    types: list[str] = page.evaluate("document.getElementById('ls-surface').data.map(t => t.type)")
    return types
