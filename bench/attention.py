"""The transformer family's figures (issue 19): learning to reverse, speed, snapshot bytes.

1. Reverse at length 8 (2,000 sequences over 10 symbols, 1,600 for training, 200 for
   validation; the family's defaults: 2 blocks, 2 heads, d_model 32, sinusoidal, pre-LN,
   AdamW lr 3e-3, batch 32): trains epoch by epoch until the validation sequence accuracy
   (every token of the reversed sequence right) reaches 99% or the time cap (`--cap`
   seconds) runs out; prints the accuracy, the steps and the seconds it took, per seed.
2. Training steps per second at d_model 32 and 64 (reverse, length 8, 2 blocks, 2 heads,
   batch 32): the engine's own loop (records(): step + per-layer norms), evaluations
   excluded.
3. Bytes per live snapshot (the JSON the socket sends, floats rounded as the stream does)
   and of its attention maps alone (uint8 in base64), for a few shapes.
One torch thread, as a worker; the machine's load is printed (a shared machine slows all).
Run: nice .venv/bin/python bench/attention.py [--cap 300] [--seeds 1000,1001] [--json]
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
from app.nn.training.transformer import TransformerTrainer
from app.runs.events.frames import compact


def spec(seed: int = 1000, epochs: int = 1, **part: Any) -> Any:
    base = {"dataset": "reverse", "length": 8, "examples": 2000}
    return validate_spec(
        {
            "family": "transformer",
            "seed": seed,
            "data": {"train_fraction": 0.8, "val_fraction": 0.1},
            "transformer": {**base, **part},
            "train": {"epochs": epochs},
        }
    )


def reverse_until_solved(seed: int, cap: float) -> dict[str, Any]:
    """Epochs of the default reverse-8 run until validation sequence accuracy >= 0.99."""
    trainer = TransformerTrainer(spec(seed, epochs=1000))
    started = time.perf_counter()
    seq_acc, steps = 0.0, 0
    for rec in trainer.records():
        if rec["kind"] == "eval" and rec["val"] is not None:
            seq_acc, steps = rec["val"]["seq_acc"], rec["step"]
            if seq_acc >= 0.99 or time.perf_counter() - started > cap:
                break
    seconds = time.perf_counter() - started  # evaluations included: what a user waits
    return {"seed": seed, "val_seq_acc": seq_acc, "steps": steps, "seconds": round(seconds, 1)}


def steps_per_second(d_model: int, steps: int = 300) -> float:
    trainer = TransformerTrainer(spec(epochs=100, d_model=d_model))
    records = trainer.records()
    spent, done = 0.0, 0
    began = time.perf_counter()
    while done < steps:
        rec = next(records)
        now = time.perf_counter()
        if rec["kind"] == "step":
            spent += now - began
            done += 1
        began = time.perf_counter()  # evaluations between steps are not counted
    return done / spent


SHAPES = {
    "reverse 8, encoder, 2 blocks x 2 heads": {},
    "reverse 16, decoder (32 tokens), 4 x 4": {
        "length": 16,
        "causal": True,
        "blocks": 4,
        "heads": 4,
    },
    "text 32, decoder, 4 x 4, d_model 128": {
        "dataset": "text",
        "length": 32,
        "causal": True,
        "blocks": 4,
        "heads": 4,
        "d_model": 128,
    },
}


def snapshot_bytes() -> dict[str, dict[str, int]]:
    out = {}
    for name, part in SHAPES.items():
        trainer = TransformerTrainer(spec(**part))
        snap = compact(trainer.snapshot())
        out[name] = {
            "snapshot": len(json.dumps(snap, separators=(",", ":"))),
            "maps": len(snap["maps"]["b64"]),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cap", type=float, default=300.0, help="seconds per reverse run")
    parser.add_argument("--seeds", default="1000,1001", help="seeds of the reverse runs")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    torch.set_num_threads(1)
    load = os.getloadavg()
    figures: dict[str, Any] = {"load_before": [round(x, 2) for x in load], "cpus": os.cpu_count()}
    figures["reverse_8"] = [reverse_until_solved(int(s), args.cap) for s in args.seeds.split(",")]
    figures["steps_per_s"] = {str(d): round(steps_per_second(d), 1) for d in (32, 64)}
    figures["snapshot_bytes"] = snapshot_bytes()
    figures["load_after"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        json.dump(figures, sys.stdout)
        print()
        return
    print(
        f"machine: {figures['cpus']} cpus, load {figures['load_before']} -> {figures['load_after']}"
    )
    for r in figures["reverse_8"]:
        print(
            f"reverse 8, seed {r['seed']}: validation sequence accuracy {r['val_seq_acc']:.3f} "
            f"after {r['steps']} steps, {r['seconds']} s"
        )
    for d, rate in figures["steps_per_s"].items():
        print(f"d_model {d}: {rate} steps/s (batch 32, length 8, 2 blocks x 2 heads)")
    for name, sizes in figures["snapshot_bytes"].items():
        print(f"{name}: snapshot {sizes['snapshot']} B, attention maps {sizes['maps']} B")


if __name__ == "__main__":
    main()
