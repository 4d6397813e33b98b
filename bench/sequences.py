"""The recurrent family's figures (issue 18): learning the adding problem, speed, bytes.

1. Adding problem at T=50 (2,000 sequences, 1,600 for training, 32 units, Adam lr 0.01,
   batch 50): each cell trains epoch by epoch until its test MSE is below 0.01 or the time
   cap (`--cap`, seconds) runs out; prints the test MSE, the epochs and the seconds it took
   (chance, always answering 1, is 0.167).
2. Training steps per second for each cell at T=50 and T=200 (batch 50, 32 units), the
   engine's own loop (records(): step + per-layer norms), evaluations excluded.
3. Bytes per live snapshot (the JSON the socket sends: the sequence views, floats
   rounded as the stream does) for each cell at T=50 and 200, with 32 and 128 units.
4. With `--sweep`: the T sweep. Each cell on the adding problem at T = 10, 20, 50, 100 for
   `--sweep-epochs` epochs (1,000 sequences): the test MSE at each length, and the first
   length at which a cell stays above 0.05 (where it "fails").
5. With `--page`: the playground's frame rate in headless Chromium against a real server
   (bench/live.py's): an LSTM of 32 units on the adding problem at T=50 and T=200, played
   at the page's default pace; over `--seconds`, the through-time pictures drawn per second
   (hidden state, gates, ||dL/dh_t||, the answer), the animation frames per second and the
   milliseconds one picture takes to draw.
One torch thread, as a worker; the machine's load is printed (a shared machine slows all).
Run: nice .venv/bin/python bench/sequences.py [--cap 240] [--cells lstm,rnn_tanh] [--page]
[--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import torch

from app.nn.spec.experiment import validate_spec
from app.nn.training.sequences import SeqTrainer, live_snapshot
from app.runs.events.frames import compact

CELLS = ("rnn_tanh", "gru", "lstm")


def spec(cell: str, length: int, epochs: int = 1, hidden: int = 32, samples: int = 2000) -> Any:
    return validate_spec(
        {
            "family": "rnn",
            "seed": 1000,
            "data": {"train_fraction": 0.8},
            "rnn": {
                "dataset": "adding",
                "length": length,
                "samples": samples,
                "cell": cell,
                "hidden": hidden,
            },
            "train": {
                "optimizer": {"name": "adam", "lr": 0.01},
                "batch_size": 50,
                "epochs": epochs,
            },
        }
    )


def adding(cell: str, cap: float) -> dict[str, Any]:
    trainer = SeqTrainer(spec(cell, 50, epochs=10000 // 32))
    started = time.perf_counter()
    best, epoch, mse = float("inf"), 0, float("nan")
    for rec in trainer.records():
        if rec["kind"] != "eval" or rec["step"] == 0:
            continue
        mse, epoch = rec["test"]["loss"], rec["epoch"]
        best = min(best, mse)
        if mse < 0.01 or time.perf_counter() - started > cap:
            break
    seconds = time.perf_counter() - started
    return {"cell": cell, "test_mse": mse, "best": best, "epochs": epoch, "seconds": seconds}


def steps_per_second(cell: str, length: int, steps: int) -> float:
    trainer = SeqTrainer(spec(cell, length, epochs=100))
    records = trainer.records()
    next(records), next(records)  # start, the step-0 evaluation
    done, spent = 0, 0.0
    while done < steps:
        began = time.perf_counter()
        rec = next(records)
        took = time.perf_counter() - began
        if rec["kind"] == "step":
            done += 1
            spent += took
    return steps / spent


def snapshot_bytes(cell: str, length: int, hidden: int) -> int:
    trainer = SeqTrainer(spec(cell, length, hidden=hidden, samples=200))
    snap = compact(live_snapshot(trainer, 0, False))
    return len(json.dumps(snap, allow_nan=False, separators=(",", ":")).encode())


def sweep(cells: list[str], epochs: int) -> list[dict[str, Any]]:
    rows = []
    for cell in cells:
        row: dict[str, Any] = {"cell": cell, "mse": {}, "fails_at": None}
        for length in (10, 20, 50, 100):
            trainer = SeqTrainer(spec(cell, length, epochs=epochs, samples=1000))
            mse = trainer.run()["final"]["test_loss"]
            row["mse"][length] = mse
            if mse > 0.05 and row["fails_at"] is None:
                row["fails_at"] = length
            print(f"sweep {cell:9s} T={length:<3d} test MSE {mse:.4f}", flush=True)
        rows.append(row)
    return rows


PAGE_READ = """(() => { const s = window.__bpSeq || {};
  return { t: performance.now(), pictures: s.pictures || 0, drawMs: s.drawMs || 0,
           frames: window.__frames || 0 }; })()"""
COUNT_FRAMES = "(() => { window.__frames = 0; const f = () => { window.__frames += 1;"
COUNT_FRAMES += " requestAnimationFrame(f); }; requestAnimationFrame(f); })()"


def page_rates(lengths: tuple[int, ...], seconds: float) -> list[dict[str, Any]]:
    """The playground's through-time views while an LSTM trains (see the module docstring)."""
    from playwright.sync_api import sync_playwright

    from bench.live import CHROMIUM, FLAGS, ROOT, Server

    server = Server(ROOT, workers=1)
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            for length in lengths:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.add_init_script(COUNT_FRAMES)
                page.goto(f"{server.http}/?fam=rnn&rnn=length:{length},samples:2000&ep=1000")
                page.wait_for_selector("#sequence-card", timeout=30_000)
                page.wait_for_timeout(500)
                page.click("#btn-play")
                deadline = time.monotonic() + 60  # (the page's CSP refuses wait_for_function)
                while page.evaluate(PAGE_READ)["pictures"] < 2:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"T={length}: no picture within 60 s of Play")
                    page.wait_for_timeout(50)
                a = page.evaluate(PAGE_READ)
                page.wait_for_timeout(seconds * 1000)
                b = page.evaluate(PAGE_READ)
                page.request.post(f"{server.http}/api/runs/{page.input_value('#run-id')}/stop")
                page.close()
                dt, drawn = (b["t"] - a["t"]) / 1000, b["pictures"] - a["pictures"]
                rows.append(
                    {
                        "T": length,
                        "pictures_per_s": round(drawn / dt, 1),
                        "display_fps": round((b["frames"] - a["frames"]) / dt, 1),
                        "ms_per_picture": round((b["drawMs"] - a["drawMs"]) / max(drawn, 1), 2),
                    }
                )
            browser.close()
    finally:
        server.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cap", type=float, default=240.0, help="seconds per adding run")
    parser.add_argument("--cells", default="rnn_tanh,lstm", help="cells for the adding runs")
    parser.add_argument("--steps", type=int, default=60, help="steps timed per speed figure")
    parser.add_argument("--sweep", action="store_true", help="also the T sweep (slow)")
    parser.add_argument("--sweep-epochs", type=int, default=30)
    parser.add_argument("--page", action="store_true", help="also the page's frame rate")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per page figure")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out: dict[str, Any] = {"load": os.getloadavg(), "cpus": os.cpu_count()}
    print(f"load average {out['load'][0]:.2f} on {out['cpus']} CPUs", flush=True)

    out["adding"] = []
    for cell in args.cells.split(","):
        row = adding(cell, args.cap)
        out["adding"].append(row)
        print(
            f"adding T=50  {cell:9s} test MSE {row['test_mse']:.4f} (best {row['best']:.4f}) "
            f"after {row['epochs']} epochs, {row['seconds']:.1f} s",
            flush=True,
        )
    out["speed"] = []
    for length in (50, 200):
        for cell in CELLS:
            rate = steps_per_second(cell, length, args.steps)
            out["speed"].append({"cell": cell, "T": length, "steps_per_s": rate})
            print(f"speed T={length:<3d} {cell:9s} {rate:7.1f} steps/s (batch 50, 32 units)")
    out["bytes"] = []
    for hidden in (32, 128):
        for length in (50, 200):
            for cell in CELLS:
                size = snapshot_bytes(cell, length, hidden)
                out["bytes"].append({"cell": cell, "T": length, "hidden": hidden, "bytes": size})
                print(f"snapshot T={length:<3d} hidden {hidden:<3d} {cell:9s} {size:7d} bytes")
    if args.sweep:
        out["sweep"] = sweep(list(CELLS), args.sweep_epochs)
        for row in out["sweep"]:
            print(f"sweep {row['cell']:9s} first T with test MSE > 0.05: {row['fails_at']}")
    if args.page:
        out["page"] = page_rates((50, 200), args.seconds)
        for row in out["page"]:
            print(
                f"page T={row['T']:<3d} LSTM 32 units: {row['pictures_per_s']} pictures/s, "
                f"{row['display_fps']} frames/s, {row['ms_per_picture']} ms per picture"
            )
    out["load_after"] = os.getloadavg()
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
