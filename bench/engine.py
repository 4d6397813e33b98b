"""Engine benchmark: the fused kernel against the eager PyTorch loop, epochs per second.

Spiral (250 training points), [8, 8] tanh, SGD lr 0.03 and Adam lr 0.01, batch sizes 1,
10, 32 and 250, one torch thread, `Trainer.records()` with every per-step record on
(batch loss, lr, per-layer grad norms for weights and biases, global grad norm,
update/weight ratios, weight norms); evaluations only at the start and the end
(stream.eval_every at its maximum). The clock runs from the step-0 evaluation to the last
step record. Goal (issue 13): >= 2,200 epochs/s at batch 10 (TensorFlow Playground's
engine on this machine), moonshot 4,400.

The machine may be shared: the two paths run interleaved, round after round, each figure
is the median of the rounds, and the ratio fused/eager is taken in the same round (the
median of the per-round ratios). The clock is this process's CPU time by default
(`--clock wall` for wall time; on an idle machine they agree: one thread).
Run: .venv/bin/python bench/engine.py  (or `make bench`)
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import torch

from app.nn.spec.experiment import Spec, validate_spec
from app.nn.training.trainer import Trainer, build_data

BATCH_SIZES = (1, 10, 32, 250)
OPTIMIZERS = {"sgd": 0.03, "adam": 0.01}
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}
clock = time.process_time
MAX_EVAL_EVERY = 100_000  # the spec's bound: "never" within these runs
GOAL = 2200.0


def make_spec(batch_size: int, optimizer: str, epochs: int) -> Spec:
    return validate_spec(
        {
            "seed": 0,
            "data": {"dataset": "spiral", "samples": 500, "train_fraction": 0.5},
            "model": {"layers": [{"units": 8, "activation": "tanh"}] * 2},
            "train": {
                "optimizer": {"name": optimizer, "lr": OPTIMIZERS[optimizer]},
                "batch_size": batch_size,
                "epochs": epochs,
            },
            "stream": {"eval_every": MAX_EVAL_EVERY},
        }
    )


def timed(batch_size: int, optimizer: str, epochs: int, engine: str) -> float:
    """Seconds of training steps for `epochs` epochs on one path (setup excluded)."""
    trainer = Trainer(make_spec(batch_size, optimizer, epochs), engine=engine)
    want = "eager" if engine == "eager" else "fused"
    assert trainer.engine == want, trainer.engine_reason
    start = stop = 0.0
    for rec in trainer.records():
        if rec["kind"] == "eval" and rec["step"] == 0:
            start = clock()
        elif rec["kind"] == "step":
            stop = clock()
        assert rec["kind"] != "end" or rec["status"] == "finished", rec
    return stop - start


def measure(batch_size: int, optimizer: str, rounds: int, seconds: float) -> dict[str, float]:
    paths = {"eager": "eager", "fused": "auto"}
    epochs = {}
    for key, engine in paths.items():  # calibrate: ~`seconds` per run, after a warm-up
        timed(batch_size, optimizer, 1, engine)
        rate = 2 / max(timed(batch_size, optimizer, 2, engine), 1e-6)
        epochs[key] = max(2, int(rate * seconds))
    rates: dict[str, list[float]] = {key: [] for key in paths}
    ratios = []
    for _ in range(rounds):
        for key, engine in paths.items():
            rates[key].append(epochs[key] / timed(batch_size, optimizer, epochs[key], engine))
        ratios.append(rates["fused"][-1] / rates["eager"][-1])
    return {
        "eager": statistics.median(rates["eager"]),
        "fused": statistics.median(rates["fused"]),
        "ratio": statistics.median(ratios),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per figure")
    parser.add_argument("--seconds", type=float, default=0.4, help="target time per run")
    parser.add_argument("--clock", choices=list(CLOCKS), default="cpu", help="what to time")
    parser.add_argument("--batch", type=int, nargs="*", default=list(BATCH_SIZES))
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    torch.set_num_threads(1)
    n_train = len(build_data(make_spec(10, "sgd", 1)).train)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"spiral, {n_train} training points, [8, 8] tanh, every per-step metric, 1 torch "
        f"thread; {args.clock} time, median of {args.rounds} interleaved rounds of "
        f"~{args.seconds:g} s; load average {load}"
    )
    header = (
        f"{'batch':>5} {'opt':>4} {'steps/ep':>8} | {'eager ep/s':>10} | {'fused ep/s':>10} "
        f"{'fused/eager':>11} | {'vs goal 2,200':>13}"
    )
    print(header)
    print("-" * len(header))
    for bs in args.batch:
        for opt in OPTIMIZERS:
            m = measure(bs, opt, args.rounds, args.seconds)
            steps = -(-n_train // bs)
            print(
                f"{bs:>5} {opt:>4} {steps:>8} | {m['eager']:>10.1f} | {m['fused']:>10.1f} "
                f"{m['ratio']:>10.1f}x | {m['fused'] / GOAL:>12.2f}x",
                flush=True,
            )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end: {load}")


if __name__ == "__main__":
    main()
