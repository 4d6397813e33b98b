"""The platform files agree with the image and the app: the port the image listens on,
the /data volume, a health path that answers, and settings values the app accepts."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

from app.settings import Settings
from tests.docker.test_dockerfile import DOCKERFILE, instructions
from tests.web.service import app_client, make_settings, wait_for

REPO = Path(__file__).resolve().parents[2]


def image_facts() -> tuple[str, str]:
    steps = instructions(DOCKERFILE.read_text())
    exposed = next(args for op, args in steps if op == "EXPOSE")
    env = " ".join(args for op, args in steps if op == "ENV")
    data_dir = env.split("PLAYGROUND_DATA_DIR=")[1].split()[0]
    return exposed, data_dir


def test_platform_files_match_the_image(tmp_path: Path) -> None:
    port, data_dir = image_facts()
    assert port == str(Settings.model_fields["port"].default) == "8000"

    fly = tomllib.loads((REPO / "fly.toml").read_text())
    service = fly["http_service"]
    assert str(service["internal_port"]) == port
    assert service["auto_stop_machines"] == "off" and service["min_machines_running"] >= 1
    assert fly["mounts"][0]["destination"] == data_dir
    fly_health = service["checks"][0]["path"]

    render = yaml.safe_load((REPO / "render.yaml").read_text())["services"][0]
    assert render["runtime"] == "docker" and render["disk"]["mountPath"] == data_dir
    render_env = {e["key"]: e.get("value") for e in render["envVars"]}
    assert "PLAYGROUND_SECRET_KEY" in render_env

    space = (REPO / "deploy/huggingface/README.md").read_text()
    front = yaml.safe_load(space.split("---")[1])
    assert front["sdk"] == "docker" and str(front["app_port"]) == port
    assert "PLAYGROUND_FRAME_ANCESTORS" in space and "https://huggingface.co" in space

    # Every value the files set is one the app accepts, and the health paths answer.
    Settings(trusted_proxies=fly["env"]["PLAYGROUND_TRUSTED_PROXIES"])
    Settings(trusted_proxies=render_env["PLAYGROUND_TRUSTED_PROXIES"])
    Settings(frame_ancestors="https://huggingface.co")
    with app_client(make_settings(tmp_path)) as client:
        for path in {fly_health, render["healthCheckPath"]}:  # ready once workers are up
            wait_for(lambda p=path: client.get(p).status_code == 200, what=path)
