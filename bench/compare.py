"""Cost of a comparison vs one run and vs K separate runs, in one process, one torch thread.

    .venv/bin/python bench/compare.py [--epochs 20] [--repeats 3]

For K = 2, 4, 8 and two member sets (an Adam lr sweep: one optimizer family; a mixed set
of optimizers: several families), times whole runs (construction, training, evaluation
and every record) of:
  one       each member's spec alone through the ordinary Trainer, averaged over members
  separate  the K members one after another (the sum of those lone runs)
  compare   the K members as one Comparison (batched mode)
Each figure is the best of `repeats` interleaved attempts (the machine is shared; the best
is the least disturbed), as wall time and as this process's CPU time. Target: a K = 8
comparison costs <= 1.5x one run.
"""

from __future__ import annotations

import argparse
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import torch

from app.nn.compare.lockstep import Comparison
from app.nn.compare.spec import ComparisonSpec, validate_comparison
from app.nn.training.trainer import Trainer

MIXED = ["sgd", "adam", "momentum", "rmsprop", "nesterov", "adamw", "adagrad", "nadam"]
SWEEP = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.002, 0.02]


def base_spec(epochs: int) -> dict[str, Any]:
    return {
        "seed": 1,
        "data": {"dataset": "spiral", "samples": 500, "noise": 0.1, "val_fraction": 0.2},
        "model": {"layers": [{"units": 8, "activation": "tanh"}] * 2},
        "train": {"batch_size": 10, "epochs": epochs},
    }


def members(kind: str, k: int) -> list[dict[str, Any]]:
    if kind == "adam lr sweep":
        return [{"optimizer": {"name": "adam", "lr": lr}} for lr in SWEEP[:k]]
    return [{"optimizer": {"name": name}} for name in MIXED[:k]]


def timed(make: Callable[[], Iterator[Any]]) -> tuple[float, float]:
    """(wall, cpu) seconds to build and drain one record stream."""
    w0, c0 = time.perf_counter(), time.process_time()
    deque(make(), maxlen=0)
    return time.perf_counter() - w0, time.process_time() - c0


def measure(spec: ComparisonSpec, repeats: int) -> dict[str, tuple[float, float]]:
    specs = spec.member_specs()
    best: dict[str, list[float]] = {"one": [1e9, 1e9], "compare": [1e9, 1e9]}
    for _ in range(repeats):
        lone = [timed(lambda s=s: Trainer(s).records()) for s in specs]  # type: ignore[misc]
        one = (sum(w for w, _ in lone) / len(lone), sum(c for _, c in lone) / len(lone))
        both = timed(lambda: Comparison(spec).records())
        for key, (w, c) in (("one", one), ("compare", both)):
            best[key] = [min(best[key][0], w), min(best[key][1], c)]
    k = len(specs)
    return {
        "one": (best["one"][0], best["one"][1]),
        "separate": (best["one"][0] * k, best["one"][1] * k),
        "compare": (best["compare"][0], best["compare"][1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=20, help="epochs per run (25 steps each)")
    parser.add_argument("--repeats", type=int, default=3, help="attempts per figure (best kept)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    warm = validate_comparison({"base": base_spec(1), "members": members("mixed", 8)})
    deque(Comparison(warm).records(), maxlen=0)  # first-use imports and allocations
    for s in warm.member_specs():
        deque(Trainer(s).records(), maxlen=0)
    steps = validate_comparison({"base": base_spec(args.epochs), "members": [{}, {}]})
    total = steps.member_spec(0).total_steps()
    print(f"{total} steps per run (spiral, 250 train points, [8, 8] tanh, batch 10), 1 thread")
    print(f"best of {args.repeats}; wall ms (cpu ms); ratios on wall (cpu)\n")
    head = f"{'members':<15}{'K':>2} {'one':>13} {'separate':>15} {'compare':>15}"
    print(head + f" {'vs one':>13} {'vs separate':>13}")
    for kind in ("adam lr sweep", "mixed"):
        for k in (2, 4, 8):
            spec = validate_comparison(
                {"base": base_spec(args.epochs), "members": members(kind, k)}
            )
            r = measure(spec, args.repeats)
            (ow, oc), (sw, sc), (cw, cc) = r["one"], r["separate"], r["compare"]
            cells = [f"{ow * 1e3:6.0f} ({oc * 1e3:4.0f})", f"{sw * 1e3:7.0f} ({sc * 1e3:5.0f})"]
            cells += [f"{cw * 1e3:7.0f} ({cc * 1e3:5.0f})", f"{cw / ow:6.2f}x ({cc / oc:4.2f})"]
            print(f"{kind:<15}{k:>2} " + " ".join(cells) + f" {cw / sw:6.2f}x ({cc / sc:4.2f})")
    print(f"\nmixed = {', '.join(MIXED)} (first K); {time.perf_counter() - started:.0f} s total")


if __name__ == "__main__":
    main()
