"""Convolutional nets on tiny images: the figures of issue 17.

Trains the default small CNN (conv 8 and 16 filters, 3x3, 2x2 max-pool, Adam 0.01, batch
32, 30 epochs: the family's defaults) on the UCI
8x8 digits over a few seeds, and beside it an MLP on the same images, split and seeds (the
cnn family with no conv layer and one dense hidden layer), then prints test accuracy,
training time, parameters, steps/s, and the live snapshot's size and cost. One torch
thread, as the app's workers; run it with `nice` on a shared machine:

    nice .venv/bin/python bench/images.py                 # 5 seeds
    nice .venv/bin/python bench/images.py --seeds 2 --epochs 10
    nice .venv/bin/python bench/images.py --markdown      # the table for a note

The page's frame rate is measured by the browser test tests/e2e/test_cnn_page.py
(window.__cnn.pictures over time); this script prints what the worker sends.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

import torch

from app.nn.measure import images
from app.nn.spec.experiment import validate_spec
from app.nn.training.cnn import CnnTrainer

CNN: dict[str, Any] = {"family": "cnn", "cnn": {"dataset": "digits"}}
MLP: dict[str, Any] = {
    "family": "cnn",
    "cnn": {"dataset": "digits", "conv": []},
    "model": {"layers": [{"units": 64, "activation": "relu"}]},
}


def train(base: dict[str, Any], seed: int, epochs: int) -> dict[str, Any]:
    spec = validate_spec({**base, "seed": seed, "train": {"epochs": epochs}})
    trainer = CnnTrainer(spec)
    started = time.perf_counter()
    end = trainer.run()
    seconds = time.perf_counter() - started
    snaps, took = [], []
    for _ in range(20):
        t0 = time.perf_counter()
        snaps.append(images.snapshot(trainer, 0))  # a live one (the run loop's size 0)
        took.append(time.perf_counter() - t0)
    return {
        "test_acc": end["final"]["test_acc"],
        "seconds": seconds,
        "steps": end["step"],
        "params": sum(p.numel() for p in trainer.model.parameters()),
        "snapshot_bytes": len(json.dumps(snaps[-1], separators=(",", ":"))),
        "snapshot_ms": 1000 * statistics.median(took),
        "start_bytes": len(json.dumps(images.gallery(trainer.data.test.x, trainer.data.test.y))),
    }


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    accs = [r["test_acc"] for r in rows]
    secs = [r["seconds"] for r in rows]
    return {
        "test_acc_mean": statistics.mean(accs),
        "test_acc_min": min(accs),
        "seconds_mean": statistics.mean(secs),
        "seconds_max": max(secs),
        "steps_per_s": sum(r["steps"] for r in rows) / sum(secs),
        "params": rows[0]["params"],
        "snapshot_bytes": rows[0]["snapshot_bytes"],
        "snapshot_ms": statistics.median(r["snapshot_ms"] for r in rows),
        "gallery_bytes": rows[0]["start_bytes"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30)  # the family's default
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = range(1000, 1000 + args.seeds)  # not the seeds the defaults were chosen on
    results = {
        name: summary([train(base, s, args.epochs) for s in seeds])
        for name, base in (("cnn", CNN), ("mlp", MLP))
    }
    load = os.getloadavg()[0]
    if args.markdown:
        print(f"| model | params | test acc (mean / min of {args.seeds}) | train s (mean / max) "
              "| steps/s | snapshot bytes | snapshot ms |")  # fmt: skip
        print("|---|---|---|---|---|---|---|")
        for name, r in results.items():
            print(
                f"| {name} | {r['params']} | {r['test_acc_mean']:.4f} / {r['test_acc_min']:.4f} "
                f"| {r['seconds_mean']:.1f} / {r['seconds_max']:.1f} | {r['steps_per_s']:.0f} "
                f"| {r['snapshot_bytes']} | {r['snapshot_ms']:.1f} |"
            )
        print(
            f"\nload average at the end: {load:.2f}; {args.epochs} epochs, digits split 0.5/0/0.5"
        )
        return
    print(json.dumps({"epochs": args.epochs, "load": load, **results}, indent=2))


if __name__ == "__main__":
    main()
