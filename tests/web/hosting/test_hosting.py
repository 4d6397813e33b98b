"""Hosting guards through the real app: security headers and pages without inline code,
body limits, the WebSocket origin check, demo caps, /readyz, /metrics, JSON logs, and
the CPU quota read from cgroup files."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import torch
import websockets
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from starlette.websockets import WebSocketDisconnect

from app.cpus import cgroup_quota, cpu_limit
from app.settings import Settings
from tests.web.service import (
    QUICK,
    TERMINAL,
    LiveServer,
    app_client,
    make_settings,
    wait_for,
    wait_status,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(make_settings(tmp_path_factory.mktemp("hosting"))) as c:
        yield c


def test_security_headers_everywhere(client: TestClient) -> None:
    for path in ("/", "/api/limits", "/static/app.css", "/healthz", "/nope", "/docs"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp, path
        assert "style-src 'self';" in csp and "unsafe-inline" not in csp, path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-frame-options"] == "DENY"
    # /docs too: Swagger UI is vendored and started by a script file (no CDN, no inline).
    assert "cdn" not in client.get("/docs").headers["content-security-policy"]


class _InlineFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self._in_script = True
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name == "style" or name.startswith(("on", "hx-on")):
                self.problems.append(f"{tag} {name}={value!r}")
            if value and value.strip().lower().startswith(("javascript:", "js:")):
                self.problems.append(f"{tag} {name}={value!r}")

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline script {data.strip()[:60]!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def test_pages_have_nothing_the_csp_would_block(client: TestClient) -> None:
    """No inline script, style element or attribute, event handler, hx-on or js: value
    (htmx 4 would need eval for those) on any page in the navigation."""
    checked = 0
    for path in ("/", "/?d=xor&l=8,8", "/runs", "/lessons", "/compare", "/race"):
        response = client.get(path)
        if response.status_code == 404:
            continue  # a page another issue has not added yet
        assert response.status_code == 200, path
        finder = _InlineFinder()
        finder.feed(response.text)
        assert not finder.problems, (path, finder.problems)
        checked += 1
    assert checked >= 2


def test_body_limits(client: TestClient) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    form = {"data.dataset": "circle", "pad": "x" * (settings.max_form_bytes + 1)}
    too_big = client.post("/ui/controls", data=form)
    assert too_big.status_code == 413 and "larger than" in too_big.json()["detail"]
    assert client.post("/ui/controls", data={"data.dataset": "xor"}).status_code == 200

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts what arrives
        yield b'{"seed": 1, "pad": "'
        for _ in range(settings.max_body_bytes // 65_536 + 2):
            yield b"x" * 65_536
        yield b'"}'

    streamed = client.post("/api/runs", content=chunks())
    assert streamed.status_code == 413


def test_websocket_origin_check(client: TestClient) -> None:
    run_id = client.post("/api/runs", json=QUICK).json()["id"]
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(
            f"/ws/runs/{run_id}", headers={"origin": "http://evil.example"}
        ) as ws,
    ):
        ws.receive_text()
    assert refused.value.code == 1008
    for headers in ({}, {"origin": "http://testserver"}):  # a script; the site itself
        with client.websocket_connect(f"/ws/runs/{run_id}", headers=headers) as ws:
            assert json.loads(ws.receive_text())["seq"] == 1
    wait_status(client, run_id, TERMINAL)


def test_origin_check_on_a_real_server(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, allowed_origins="https://friend.example")

    async def handshake(url: str, origin: str | None) -> str:
        try:
            async with websockets.connect(url, origin=origin, open_timeout=20) as ws:  # type: ignore[arg-type]
                return str(json.loads(await ws.recv())["type"])
        except websockets.exceptions.InvalidStatus as exc:
            return f"refused {exc.response.status_code}"

    with LiveServer(settings) as live:
        import httpx

        run_id = httpx.post(live.http + "/api/runs", json=QUICK).json()["id"]
        url = f"{live.ws}/ws/runs/{run_id}"
        results = {
            origin: asyncio.run(handshake(url, origin))
            for origin in (None, live.http, "https://friend.example", "http://evil.example")
        }
    assert results == {
        None: "status",
        live.http: "status",
        "https://friend.example": "status",
        "http://evil.example": "refused 403",
    }


def test_demo_caps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    demo = Settings(demo=True, data_dir=tmp_path, workers=1)
    assert (demo.max_units, demo.max_layers, demo.max_samples) == (32, 6, 1000)
    assert demo.owner_only and demo.idle_run_seconds == 300 and demo.create_per_minute == 12
    assert demo.max_run_seconds == 120 and demo.landscape_max_steps == 21
    with app_client(demo) as c:
        limits = c.get("/api/limits").json()
        assert limits["demo"] and limits["owner_only"] and limits["spec"]["max_units"] == 32
        wide = c.post("/api/runs", json={"model": {"layers": [{"units": 64}]}})
        assert wide.status_code == 422
        assert "32" in wide.json()["detail"][0]["message"]
        long = c.post("/api/runs", json={"train": {"epochs": 5000}})
        assert long.status_code == 422 and long.json()["detail"][0]["field"] == "train.epochs"
        page = c.get("/").text
        assert "Demo limits" in page and "6 hidden layers of 32 units" in page
    with app_client(make_settings(tmp_path / "open")) as c:
        assert "Demo limits" not in c.get("/").text
    monkeypatch.setenv("PLAYGROUND_DEMO", "1")
    monkeypatch.setenv("PLAYGROUND_MAX_UNITS", "64")  # an operator's explicit value wins
    from_env = Settings()
    assert from_env.demo and from_env.max_units == 64 and from_env.max_layers == 6


async def _torch_threads() -> int:
    return int(torch.get_num_threads())


def test_readyz_metrics_and_torch_threads(client: TestClient) -> None:
    ready = wait_for(lambda: client.get("/readyz").status_code == 200 and client.get("/readyz"))
    assert ready.json()["checks"] == {"serving": True, "workers": True, "store": True}
    # Set by the lifespan from the quota, in the server's event-loop thread (torch's
    # setting is per thread; threads started later inherit it).
    portal = client.portal  # type: ignore[attr-defined]
    assert portal.call(_torch_threads) == cpu_limit()
    run_id = client.post("/api/runs", json=QUICK).json()["id"]
    with client.websocket_connect(f"/ws/runs/{run_id}") as ws, pytest.raises(WebSocketDisconnect):
        while True:
            ws.receive_text()
    wait_status(client, run_id, TERMINAL)
    text = client.get("/metrics").text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("playground_runs_created_total", ())] >= 1
    assert samples[("playground_runs_ended_total", (("status", "finished"),))] >= 1
    assert samples[("playground_steps_total", ())] >= 50  # QUICK = 50 optimizer steps
    assert samples[("playground_events_total", ())] >= 3
    assert samples[("playground_socket_clients", ())] == 0
    assert samples[("playground_queue_length", ())] == 0
    assert samples[("playground_workers_ready", ())] == 2
    assert samples[("playground_event_lag_seconds_count", ())] >= 3
    route = (("method", "POST"), ("route", "/api/runs"), ("status", "2xx"))
    assert samples[("playground_http_request_seconds_count", route)] >= 1
    assert any(k[0] == "playground_runs" for k in samples)


def test_readyz_is_503_when_the_store_is_gone(tmp_path: Path) -> None:
    with app_client(make_settings(tmp_path)) as c:
        manager = c.app.state.service  # type: ignore[attr-defined]
        wait_for(lambda: c.get("/readyz").status_code == 200)
        original = manager.store.call

        async def broken(*_: Any) -> Any:
            raise OSError("database is unreachable")

        manager.store.call = broken
        try:
            response = c.get("/readyz")
        finally:
            manager.store.call = original
        assert response.status_code == 503 and response.json()["checks"]["store"] is False
        assert c.get("/healthz").status_code == 200  # alive, just not ready


def test_json_logs_carry_the_run_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with app_client(make_settings(tmp_path, log_format="json")) as c:
        run_id = c.post("/api/runs", json=QUICK).json()["id"]
        wait_status(c, run_id, TERMINAL)
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    mine = [x for x in lines if x.get("run_id") == run_id]
    assert [x["msg"] for x in mine] == ["run created", "run started", "run ended"]
    assert mine[-1]["status"] == "finished" and mine[-1]["step"] == 50
    assert all(x["level"] == "info" and x["logger"] == "app.runs" and x["ts"] for x in mine)


@pytest.mark.parametrize(
    ("files", "quota", "limit"),
    [
        ({"cpu.max": "150000 100000\n"}, 1.5, 2),
        ({"cpu.max": "50000 100000\n"}, 0.5, 1),
        ({"cpu.max": "max 100000\n"}, None, None),
        ({"cpu/cpu.cfs_quota_us": "200000", "cpu/cpu.cfs_period_us": "100000"}, 2.0, 2),
        ({"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"}, None, None),
        ({}, None, None),
    ],
)
def test_cpu_quota_from_cgroup_files(
    tmp_path: Path, files: dict[str, str], quota: float | None, limit: int | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cgroup_quota(tmp_path) == quota
    host = cpu_limit(tmp_path / "nothing-here")
    assert cpu_limit(tmp_path) == (min(host, limit) if limit else host)
    settings = Settings(data_dir=tmp_path)
    assert settings.worker_count() == cpu_limit()  # the pool follows the quota
