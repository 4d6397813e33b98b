"""What the `backprop` command prints: progress bars, result tables, strict JSON."""

from __future__ import annotations

import math
from typing import Any

from app.settings import get_settings


def finite_json(value: Any) -> Any:
    """JSON has no NaN or Infinity: a diverged run's non-finite scores become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    return value


def configure_torch() -> None:
    import torch

    torch.set_num_threads(get_settings().torch_threads)


def run_with_progress(trainer: Any, quiet: bool) -> dict[str, Any]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    end: dict[str, Any] = {}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[info]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, disable=quiet, console=Console(stderr=True)) as progress:
        task = progress.add_task("training", total=trainer.total_steps, info="")
        for rec in trainer.records():
            if rec["kind"] == "step" and rec["step"] % 50 == 0:
                progress.update(task, completed=rec["step"], info=f"loss {rec['loss']:.4f}")
            elif rec["kind"] == "end":
                end = rec
                progress.update(task, completed=rec["step"])
    return end


def print_final(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{result['status']} after {result['epochs']} epochs, {result['steps']} steps"
    )
    table.add_column("metric")
    for split in ("train", "val", "test"):
        table.add_column(split, justify="right")
    final = result["final"]
    metrics = sorted({k.split("_", 1)[1] for k in final})
    for metric in ["loss", *[m for m in metrics if m != "loss"]]:
        cells = [final.get(f"{s}_{metric}") for s in ("train", "val", "test")]
        table.add_row(metric, *("—" if c is None else f"{c:.4f}" for c in cells))
    console = Console()
    console.print(table)
    console.print(result["reason"])


def run_comparison(comp: Any, quiet: bool) -> dict[str, Any]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    total = sum(s.total_steps() for s in comp.specs)
    done, last = 0, {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeRemainingColumn(),
        disable=quiet,
        console=Console(stderr=True),
    ) as progress:
        task = progress.add_task(f"comparing {len(comp.specs)} ({comp.mode})", total=total)
        for rec in comp.records():
            if rec["kind"] == "step":
                done += 1
                if done % 200 == 0:
                    progress.update(task, completed=done)
            last = rec
    return last


def print_comparison(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    rows = result["members"]
    regression = any("train_r2" in r for r in rows)
    score = "r2" if regression else "acc"
    target = next((r["target_loss"] for r in rows if r["target_loss"] is not None), None)
    title = f"{len(rows)} members, {result['mode']}"
    if result["mode_reason"]:
        title += f" ({result['mode_reason']})"
    table = Table(title=title, caption="losses; * = lowest validation (else training) loss")
    table.add_column("member", no_wrap=True)
    heads = ["params", "train", "val", "test", f"test {score}", "best val"]
    heads += [f"to {target:.3g}" if target is not None else "to target", "time s", "diverged"]
    for col in heads:
        table.add_column(col, justify="right", no_wrap=True)

    def num(value: Any) -> str:
        return "—" if value is None else f"{value:.4f}"

    for r in rows:
        table.add_row(
            ("* " if r["leader"] else "  ") + r["label"],
            f"{r['params']:,}" + (" own init" if r["initial_weights"] == "independent" else ""),
            num(r.get("train_loss")),
            num(r.get("val_loss")),
            num(r.get("test_loss")),
            num(r.get(f"test_{score}")),
            num(r["best_val_loss"]),
            "—" if r["steps_to_target"] is None else f"step {r['steps_to_target']}",
            f"{r['seconds']:.2f}",
            f"step {r['diverged_at']}" if r["diverged"] else "no",
        )
    console = Console(width=max(Console().width, 110))
    console.print(table)
    console.print(f"{result['seconds']:.2f} s in all")
    if result.get("sweep"):
        print_sweep(console, result["sweep"])


def print_sweep(console: Any, sweep: dict[str, Any]) -> None:
    """The sequence-length sweep: each model's score at every T, the first T it fails at."""
    from rich.table import Table

    mse = sweep["metric"] == "mse"
    table = Table(
        title=f"{sweep['task']}: test {'MSE' if mse else 'accuracy'} against T "
        f"(chance {sweep['chance']:.3g}; fails beyond {sweep['threshold']:.3g})",
        caption="! = closer to chance than to perfect",
    )
    table.add_column("model", no_wrap=True)
    for length in sweep["lengths"]:
        table.add_column(f"T={length}", justify="right")
    table.add_column("fails at", justify="right")
    for s in sweep["outcome"]:
        cells = {p["length"]: p for p in s["points"]}
        row = [s["label"]]
        for length in sweep["lengths"]:
            p = cells.get(length)
            text = "" if p is None or p["score"] is None else f"{p['score']:.4f}"
            row.append(text + ("!" if p and p["fails"] else ""))
        row.append("none" if s["fails_at"] is None else f"T={s['fails_at']}")
        table.add_row(*row)
    console.print(table)
