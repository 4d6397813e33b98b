"""Engine benchmark: a bare PyTorch loop vs the engine with every per-step metric on.

Spiral (250 training points), [8, 8] tanh, SGD lr 0.03, batch sizes 10, 32 and 250, one
torch thread. Prints epochs/s and samples/s for
  (a) a minimal hand-written loop (forward, BCE, zero_grad, backward, step), the baseline;
  (b) `Trainer.records()`: batch loss, lr, per-layer grad norms (weights and biases), global
      grad norm, update/weight ratios and weight norms on every step; evaluations only at
      the start and the end (stream.eval_every at its maximum);
  (c) the same with the default cadence: a full evaluation after every epoch,
and the ratios b/a and c/a (target: b/a >= 0.8 at batch 10).

The machine may be shared: the variants run interleaved for a few rounds, each figure is
the best round (the least disturbed one), and the clock is this process's CPU time by
default (`--clock wall` for wall time; on an idle machine they agree, since everything
runs on one thread). Run: .venv/bin/python bench/engine.py
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from app.nn.spec.experiment import Spec, validate_spec
from app.nn.training.trainer import Trainer, build_data

BATCH_SIZES = (10, 32, 250)
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}
clock = time.process_time
MAX_EVAL_EVERY = 100_000  # the spec's bound: "never" within these runs


def make_spec(batch_size: int, epochs: int, eval_every: int) -> Spec:
    return validate_spec(
        {
            "seed": 0,
            "data": {"dataset": "spiral", "samples": 500, "train_fraction": 0.5},
            "model": {"layers": [{"units": 8, "activation": "tanh"}] * 2},
            "train": {
                "optimizer": {"name": "sgd", "lr": 0.03},
                "batch_size": batch_size,
                "epochs": epochs,
            },
            "stream": {"eval_every": eval_every},
        }
    )


def bare_loop(batch_size: int, epochs: int) -> float:
    """(a) The minimal loop anyone would write; returns seconds for `epochs` epochs."""
    train = build_data(make_spec(batch_size, 1, 0)).train
    x, y, n = train.x, train.y, len(train)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.03)
    gen = torch.Generator().manual_seed(0)
    start = clock()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            loss = F.binary_cross_entropy_with_logits(model(x[idx])[:, 0], y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return clock() - start


def engine(batch_size: int, epochs: int, eval_every: int) -> float:
    """(b)/(c) The engine; times the steps only (the clock starts at the step-0 evaluation
    and stops at the last step record, so setup and the final scores are excluded)."""
    trainer = Trainer(make_spec(batch_size, epochs, eval_every))
    start = stop = 0.0
    for rec in trainer.records():
        if rec["kind"] == "eval" and rec["step"] == 0:
            start = clock()
        elif rec["kind"] in ("step", "eval"):
            stop = clock()
        assert rec["kind"] != "end" or rec["status"] == "finished", rec
    return stop - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per figure")
    parser.add_argument("--seconds", type=float, default=0.6, help="target time per run")
    parser.add_argument("--clock", choices=list(CLOCKS), default="cpu", help="what to time")
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    torch.set_num_threads(1)
    n_train = len(build_data(make_spec(10, 1, 0)).train)
    print(
        f"spiral, {n_train} training points, [8, 8] tanh, SGD lr 0.03, 1 torch thread; "
        f"{args.clock} time, best of {args.rounds} interleaved rounds of ~{args.seconds:g} s"
    )
    header = (
        f"{'batch':>5} {'steps/ep':>8} | {'(a) bare ep/s':>13} {'samples/s':>10} | "
        f"{'(b) engine ep/s':>15} {'samples/s':>10} {'b/a':>5} | "
        f"{'(c) +eval/epoch ep/s':>20} {'c/a':>5}"
    )
    print(header)
    print("-" * len(header))
    for bs in BATCH_SIZES:
        variants: dict[str, Callable[[int], float]] = {
            "a": lambda e, bs=bs: bare_loop(bs, e),
            "b": lambda e, bs=bs: engine(bs, e, MAX_EVAL_EVERY),
            "c": lambda e, bs=bs: engine(bs, e, 0),
        }
        # Calibrate: epochs that take ~args.seconds for each variant (after a warm-up).
        epochs = {}
        for key, run in variants.items():
            run(2)
            rate = 3 / run(3)
            epochs[key] = max(3, int(rate * args.seconds))
        rates: dict[str, list[float]] = {key: [] for key in variants}
        for _ in range(args.rounds):
            for key, run in variants.items():
                rates[key].append(epochs[key] / run(epochs[key]))
        a, b, c = (max(rates[k]) for k in "abc")
        steps = -(-n_train // bs)
        print(
            f"{bs:>5} {steps:>8} | {a:>13.1f} {a * n_train:>10.0f} | "
            f"{b:>15.1f} {b * n_train:>10.0f} {b / a:>5.2f} | {c:>20.1f} {c / a:>5.2f}"
        )


if __name__ == "__main__":
    main()
