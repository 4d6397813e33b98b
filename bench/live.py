"""What the page shows while a run trains, in headless Chromium against a real server.

For each variant (this tree, and with `--baseline REF` the same figures for a git ref
extracted to a temporary directory, served from the same virtualenv) and each batch size,
rounds alternate between the variants (interleaved; medians of rounds). A round opens
the playground on the spiral (default net; Play trains until paused, at each `--pace`:
the page's default, and 0 = as fast as the engine and the stream go), presses Play and
measures, in the page:
  - Play -> first visible update: from the click to the first animation frame that shows
    the run (a decision-boundary picture of the run, or a step counter past 0);
  - epochs/s on screen: how fast the page's epoch counter advances over `--seconds`;
  - boundary frames/s: animation frames in which the output picture changed;
  - chart frames/s: redraws of the loss chart;
  - counter frames/s: animation frames in which the step counter changed.
Goals (issue 13): >= 120 epochs/s on screen at batch 10, >= 30 boundary and chart
frames/s, first update <= 150 ms. Bounded: every wait has a timeout; loopback only.
Run: .venv/bin/python bench/live.py [--baseline main~3] [--rounds 3] [--seconds 5] [--json]
(a baseline from before Play-until-paused needs `--epochs 10000` to train throughout)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("PLAYGROUND_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-timer-throttling"]

# Counts, per animation frame, what changed on screen; works on any version of the page
# (old pages redraw the boundary as a Plotly heatmap: DOM mutations; new ones paint a
# canvas and count in window.__bp.pictures).
PROBE = """
(() => {
  const W = window.__live = { frames: 0, boundary: 0, counter: 0, first: null, click: null };
  let mutated = false, lastStep = null, lastPictures = 0;
  const watch = () => {
    const gd = document.getElementById('plot-boundary');
    if (gd && !gd.__liveObs) {
      gd.__liveObs = new MutationObserver((list) => {
        const real = (m) => !(m.target.closest && m.target.closest('.hoverlayer'));
        if (list.some(real)) mutated = true;
      });
      gd.__liveObs.observe(gd, { subtree: true, childList: true, attributes: true });
    }
  };
  const tick = (now) => {
    watch();
    W.frames += 1;
    const bp = window.__bp || {};
    const pictures = bp.pictures || 0;
    const heat = document.querySelector('#plot-boundary .heatmaplayer image');
    const changed = pictures !== lastPictures || (heat && mutated && !('pictures' in bp));
    if (changed) W.boundary += 1;
    lastPictures = pictures; mutated = false;
    const step = (document.getElementById('step') || {}).textContent;
    if (step !== lastStep) { W.counter += 1; lastStep = step; }
    if (W.click !== null && W.first === null && (changed || (step && step !== '0'))) W.first = now;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  document.addEventListener('click', (e) => {
    if (e.target && e.target.id === 'btn-play') { W.click = performance.now(); W.first = null; }
  }, true);
})();
"""


READ = """(() => { const bp = window.__bp || {};
  return { t: performance.now(), epoch: parseFloat(document.getElementById('epoch').textContent),
           live: Object.assign({}, window.__live), charts: bp.chartFrames ?? bp.frames }; })()"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def extract(ref: str) -> Path:
    """The tree of `ref` in a temporary directory (git archive: no worktree touched)."""
    out = Path(tempfile.mkdtemp(prefix="bp-live-base-"))
    tar = out / "tree.tar"
    subprocess.run(["git", "archive", "-o", str(tar), ref], cwd=ROOT, check=True)
    with tarfile.open(tar) as t:
        t.extractall(out, filter="data")
    tar.unlink()
    return out


class Server:
    def __init__(self, tree: Path, workers: int) -> None:
        self.port = free_port()
        self.data = tempfile.mkdtemp(prefix="bp-live-")
        env = {
            **os.environ,
            "PYTHONPATH": str(tree),  # this tree's `app`, not the installed one
            "PLAYGROUND_DATA_DIR": self.data,
            "PLAYGROUND_WORKERS": str(workers),
            "PLAYGROUND_MAX_RUN_SECONDS": "600",
        }
        code = "import sys; from app.cli import cli; sys.exit(cli())"
        cmd = [
            sys.executable,
            "-c",
            code,
            "serve",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        self.proc = subprocess.Popen(cmd, cwd=tree, env=env, start_new_session=True)
        self.http = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(self.http + "/readyz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise SystemExit(f"the server in {tree} did not become ready")
            time.sleep(0.2)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(60)


def measure(
    browser: Any, server: Server, batch: int, pace: float, epochs: int, seconds: float
) -> dict[str, Any]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.add_init_script(PROBE)
    try:
        url = f"{server.http}/?d=spiral&bs={batch}&pc={pace:g}"
        if epochs:
            url += f"&ep={min(epochs, 1_000_000 * batch // 250)}"  # 250 training points
        page.goto(url)
        page.wait_for_selector("#plot-boundary .main-svg", timeout=30_000)
        page.wait_for_timeout(500)  # the preview drawn, htmx settled
        page.click("#btn-play")
        deadline = time.monotonic() + 30
        while page.evaluate("window.__live.first") is None:
            if time.monotonic() > deadline:
                raise AssertionError("no visible update within 30 s of Play")
            page.wait_for_timeout(10)
        first_ms = page.evaluate("window.__live.first - window.__live.click")
        page.wait_for_timeout(1000)  # past the start-up transient
        read = READ
        a = page.evaluate(read)
        page.wait_for_timeout(seconds * 1000)
        b = page.evaluate(read)
        dt = (b["t"] - a["t"]) / 1000
        run_id = page.input_value("#run-id")  # stop it: the next round starts afresh
        page.request.post(f"{server.http}/api/runs/{run_id}/stop")
        return {
            "first_update_ms": round(first_ms, 1),
            "epochs_per_s_on_screen": round((b["epoch"] - a["epoch"]) / dt, 1),
            "boundary_fps": round((b["live"]["boundary"] - a["live"]["boundary"]) / dt, 1),
            "chart_fps": round((b["charts"] - a["charts"]) / dt, 1),
            "counter_fps": round((b["live"]["counter"] - a["live"]["counter"]) / dt, 1),
            "display_fps": round((b["live"]["frames"] - a["live"]["frames"]) / dt, 1),
            "console_errors": errors,
        }
    finally:
        ctx.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", help="a git ref to measure beside this tree")
    parser.add_argument("--batch", type=int, nargs="+", default=[10, 1])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--pace", type=float, nargs="+", default=[120.0, 0.0])
    parser.add_argument("--epochs", type=int, default=0, help="0: until paused")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    trees = {"this tree": ROOT}
    if args.baseline:
        trees = {f"baseline {args.baseline}": extract(args.baseline), **trees}
    servers = {name: Server(tree, args.workers) for name, tree in trees.items()}
    cases = [(b, pace) for b in args.batch for pace in args.pace]
    results: dict[str, dict[tuple[int, float], list[dict[str, Any]]]] = {
        n: {case: [] for case in cases} for n in trees
    }
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            for _ in range(args.rounds):
                for batch, pace in cases:
                    for name, server in servers.items():  # interleaved: before, after, ...
                        results[name][batch, pace].append(
                            measure(browser, server, batch, pace, args.epochs, args.seconds)
                        )
            browser.close()
    finally:
        for server in servers.values():
            server.close()
    keys = (
        "first_update_ms",
        "epochs_per_s_on_screen",
        "boundary_fps",
        "chart_fps",
        "counter_fps",
        "display_fps",
    )
    summary = {
        name: {
            f"batch {b}, pace {'unpaced' if pace == 0 else f'{pace:g} epochs/s'}": {
                **{k: statistics.median(r[k] for r in rounds) for k in keys},
                "console_errors": sorted({e for r in rounds for e in r["console_errors"]}),
            }
            for (b, pace), rounds in per.items()
        }
        for name, per in results.items()
    }
    summary["load"] = os.getloadavg()
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"median of {args.rounds} rounds, {args.seconds:g} s each; load {os.getloadavg()}")
    print(f"{'variant':<12} {'case':>30} " + " ".join(f"{k[:18]:>18}" for k in keys))
    for name, per in summary.items():
        if name == "load":
            continue
        for b, row in per.items():
            print(f"{name:<12} {b:>30} " + " ".join(f"{row[k]:>18}" for k in keys))
            if row["console_errors"]:
                print("   console errors:", row["console_errors"][:5])
    return 0


if __name__ == "__main__":
    sys.exit(main())
