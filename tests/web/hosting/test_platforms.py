"""Hosting platforms' conventions: $PORT, frame ancestors and the cross-site visitor
cookie, and the client address behind a trusted proxy (never from anyone else)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from app.netranges import parse_networks
from app.settings import Settings
from app.web.hosting.proxies import client_address
from tests.web.service import QUICK, LiveServer, app_client, free_port, make_settings, wait_for

HF = "https://huggingface.co"


def test_port_falls_back_to_the_platforms_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAYGROUND_PORT", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    assert Settings().port == 8000
    monkeypatch.setenv("PORT", "10000")
    assert Settings().port == 10000
    assert Settings(port=9001).port == 9001  # an explicit setting wins
    monkeypatch.setenv("PLAYGROUND_PORT", "8123")
    assert Settings().port == 8123
    monkeypatch.delenv("PLAYGROUND_PORT")
    monkeypatch.setenv("PORT", "http")
    with pytest.raises(ValidationError, match="not a TCP port"):
        Settings()


def test_backprop_serve_listens_on_port(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PLAYGROUND_PORT"}
    env.update(PORT=str(port), PLAYGROUND_DATA_DIR=str(tmp_path), PLAYGROUND_WORKERS="1")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def healthy() -> bool:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).is_success
            except httpx.HTTPError:
                return False

        wait_for(healthy, 120, f"backprop serve on $PORT={port}")
        health = subprocess.run(
            [sys.executable, "-m", "app.healthcheck"], env=env, capture_output=True
        )
        assert health.returncode == 0, health.stderr  # the image's HEALTHCHECK follows $PORT
    finally:
        server.terminate()
        server.wait(30)


def test_frame_ancestors_default_and_embedding(tmp_path: Path) -> None:
    with app_client(make_settings(tmp_path / "closed")) as closed:
        page = closed.get("/")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        cookie = page.headers["set-cookie"]
        assert "SameSite=Lax" in cookie and "Partitioned" not in cookie
    embed = make_settings(tmp_path / "open", frame_ancestors=f"{HF} 'self'")
    with app_client(embed) as client:
        page = client.get("/")
        csp = page.headers["content-security-policy"]
        assert f"frame-ancestors {HF} 'self'" in csp and "'none'" not in csp.split("frame-")[1]
        assert "x-frame-options" not in page.headers
        cookie = page.headers["set-cookie"]
        assert "SameSite=None; Secure; Partitioned" in cookie and "HttpOnly" in cookie
        assert f"frame-ancestors {HF}" in client.get("/docs").headers["content-security-policy"]


@pytest.mark.parametrize(
    "value", ["x; script-src *", "'none' https://a.org", "https://a.org,https://b.org", "'unsafe'"]
)
def test_frame_ancestors_refuses_what_is_not_a_source(value: str) -> None:
    with pytest.raises(ValidationError, match="frame_ancestors"):
        Settings(frame_ancestors=value)


def test_client_address_walks_past_trusted_hops_only() -> None:
    ours = parse_networks("10.0.0.0/8, 127.0.0.1")
    assert client_address("203.0.113.9", ["1.2.3.4"], ours) == "203.0.113.9"  # untrusted peer
    assert client_address("10.1.1.1", ["198.51.100.7"], ours) == "198.51.100.7"
    # The visitor's own header stays left of what our proxy appended.
    assert client_address("10.1.1.1", ["1.2.3.4", "198.51.100.7"], ours) == "198.51.100.7"
    assert client_address("10.1.1.1", ["198.51.100.7", "10.2.2.2"], ours) == "198.51.100.7"
    assert client_address("10.1.1.1", ["[2001:db8::5]:443"], ours) == "2001:db8::5"
    assert client_address("10.1.1.1", ["198.51.100.7:5000"], ours) == "198.51.100.7"
    assert client_address("10.1.1.1", ["nonsense", "10.2.2.2"], ours) == "10.2.2.2"
    assert client_address("10.1.1.1", [], ours) == "10.1.1.1"
    assert client_address("::ffff:10.1.1.1", ["198.51.100.7"], ours) == "198.51.100.7"
    assert client_address("10.1.1.1", ["198.51.100.7"], ()) == "10.1.1.1"  # trust nobody
    assert {str(n) for n in parse_networks("private")} >= {"10.0.0.0/8", "fc00::/7"}
    with pytest.raises(ValidationError, match="not an IP address"):
        Settings(trusted_proxies="10.0.0.0/8, proxy.local")


def _create(base: str, forwarded_for: str) -> int:
    headers = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"}
    return httpx.post(f"{base}/api/runs", json=QUICK, headers=headers, timeout=30).status_code


def test_spoofed_forwarded_for_from_an_untrusted_peer_shares_its_bucket(tmp_path: Path) -> None:
    # The default: nobody is trusted, so the loopback peer is the client, whatever it says.
    settings = make_settings(tmp_path, create_per_minute=1.0, create_burst=1)
    with LiveServer(settings) as live:
        assert _create(live.http, "198.51.100.1") == 201
        assert _create(live.http, "198.51.100.2") == 429  # no fresh bucket for a new lie
        assert _create(live.http, "198.51.100.3, 198.51.100.4") == 429


def test_forwarded_client_from_a_trusted_proxy_gets_its_own_bucket(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, create_per_minute=1.0, create_burst=1, trusted_proxies="127.0.0.1"
    )
    with LiveServer(settings) as live:
        assert _create(live.http, "198.51.100.1") == 201
        assert _create(live.http, "198.51.100.2") == 201  # another client behind the proxy
        assert _create(live.http, "198.51.100.1") == 429
        # A visitor's own X-Forwarded-For is to the left of what the proxy appended.
        assert _create(live.http, "203.0.113.77, 198.51.100.2") == 429
        page = httpx.get(live.http + "/", headers={"X-Forwarded-Proto": "https"}, timeout=30)
        assert "Secure" in page.headers["set-cookie"]  # the scheme the proxy reports
