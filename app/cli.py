"""The `backprop` command: train | serve | compare | bench | worker.

The training engine is imported by the commands that train, not at start-up: `backprop
worker` must start even when the engine cannot be imported, to report why (a broken
install on a worker machine shows in /healthz instead of a silent crash loop).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from app.cli_output import (
    configure_torch,
    finite_json,
    print_comparison,
    print_final,
    run_comparison,
    run_with_progress,
)
from app.nn.spec.base import error_text
from app.nn.spec.experiment import Spec, _part_class, validate_spec
from app.settings import get_settings

cli = typer.Typer(add_completion=False, no_args_is_help=True, help="Backprop Playground.")


def _print_version(value: bool) -> None:
    if value:
        from app import __version__

        typer.echo(f"backprop-playground {__version__}")
        raise typer.Exit()


@cli.callback()
def _root(
    _version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="print the version"
    ),
) -> None:
    """Watch neural networks learn: train, serve, compare, bench."""


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def load_spec(spec_file: Path | None, overrides: dict[str, Any]) -> Spec:
    """Spec from a JSON file (or defaults) with CLI flags applied on top; exit 2 if bad."""
    data: dict[str, Any] = {}
    if spec_file is not None:
        try:
            data = json.loads(spec_file.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            _fail(f"--spec {spec_file}: {exc}")
        if not isinstance(data, dict):
            _fail(f"--spec {spec_file}: expected a JSON object")
    for path, value in overrides.items():
        if value is None:
            continue
        node = data
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                _fail(f"--spec: {key} must be an object")
        node[leaf] = value
    try:
        return validate_spec(data, get_settings().limits())
    except ValidationError as exc:
        _fail(error_text(exc))
    raise AssertionError  # unreachable


def _data_part(family: str | None, spec_file: Path | None) -> str:
    """Where --dataset, --samples and --noise go: "data" (the points), or the family's part
    when it has fields of those names (the recurrent family's sequence task)."""
    if family is None and spec_file is not None:
        try:
            family = json.loads(spec_file.read_text()).get("family")
        except (OSError, ValueError, AttributeError):
            return "data"  # load_spec reports the file's problem
    if not isinstance(family, str) or family not in Spec.model_fields:
        return "data"
    part = _part_class(Spec.model_fields[family].annotation)
    return family if part is not None and "dataset" in part.model_fields else "data"


def parse_layers(layers: str | None, activation: str | None) -> list[dict[str, Any]] | None:
    if layers is None:
        return None
    try:
        units = [int(u) for u in layers.split(",") if u.strip()] if layers.strip() else []
    except ValueError:
        _fail(f"--layers: expected comma-separated unit counts like 8,8, got {layers!r}")
    return [{"units": u, **({"activation": activation} if activation else {})} for u in units]


def parse_settings(items: list[str]) -> dict[str, Any]:
    """--set path=value pairs; the value is read as JSON when it parses (4, true, "x")."""
    out: dict[str, Any] = {}
    for item in items:
        path, sep, text = item.partition("=")
        if not sep or not path:
            _fail(f"--set: expected path=value, got {item!r}")
        try:
            out[path] = json.loads(text)
        except json.JSONDecodeError:
            out[path] = text
    return out


@cli.command()
def train(
    spec_file: Path | None = typer.Option(None, "--spec", help="spec JSON file"),
    family: str | None = typer.Option(None, help="model family (mlp, rnn, transformer)"),
    dataset: str | None = typer.Option(None, help="dataset key"),
    samples: int | None = typer.Option(None, help="points generated"),
    noise: float | None = typer.Option(None, help="noise 0..1"),
    layers: str | None = typer.Option(None, help="hidden units, e.g. 8,8 (empty = none)"),
    activation: str | None = typer.Option(None, help="activation of every hidden layer"),
    init: str | None = typer.Option(None, help="weight-init scheme"),
    optimizer: str | None = typer.Option(None, help="optimizer key"),
    lr: float | None = typer.Option(None, help="learning rate"),
    batch_size: int | None = typer.Option(None, help="batch size"),
    epochs: int | None = typer.Option(None, help="epochs"),
    seed: int | None = typer.Option(None, help="random seed"),
    cell: str | None = typer.Option(None, help="rnn: rnn_tanh | rnn_relu | gru | lstm"),
    length: int | None = typer.Option(None, help="rnn: sequence length T"),
    hidden: int | None = typer.Option(None, help="rnn: hidden units"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    settings: list[str] | None = typer.Option(
        None, "--set", help="any spec field, e.g. --set transformer.heads=4 (JSON value)"
    ),
) -> None:
    """Train one experiment in this process and print the final scores."""
    layer_list = parse_layers(layers, activation)
    if layer_list is None and activation is not None:
        base = load_spec(spec_file, {})
        layer_list = [
            {**layer.model_dump(), "activation": activation} for layer in base.model.layers
        ]
    optimizer_spec: dict[str, Any] | None = None
    if optimizer is not None or lr is not None:
        optimizer_spec = {"name": optimizer or "sgd", **({"lr": lr} if lr is not None else {})}
    spec = load_spec(
        spec_file,
        {
            "family": family,
            "seed": seed,
            # A family with its own data (rnn: the sequence task) takes these in its part.
            f"{_data_part(family, spec_file)}.dataset": dataset,
            f"{_data_part(family, spec_file)}.samples": samples,
            f"{_data_part(family, spec_file)}.noise": noise,
            "rnn.cell": cell,
            "rnn.length": length,
            "rnn.hidden": hidden,
            "model.layers": layer_list,
            "model.init": init,
            "train.optimizer": optimizer_spec,
            "train.batch_size": batch_size,
            "train.epochs": epochs,
            **parse_settings(settings or []),
        },
    )
    configure_torch()
    from app.nn.families.registry import trainer_for  # lazy: see the module docstring

    trainer = trainer_for(spec)
    end = run_with_progress(trainer, quiet=as_json)
    result = {
        "status": end["status"],
        "reason": end["reason"],
        "epochs": end["epoch"],
        "steps": end["step"],
        "final": end["final"],
        "spec": spec.model_dump(mode="json"),
    }
    if as_json:
        typer.echo(json.dumps(finite_json(result), allow_nan=False))
    else:
        print_final(result)


@cli.command()
def serve(
    host: str | None = typer.Option(None, help="interface to bind (default from settings)"),
    port: int | None = typer.Option(None, help="TCP port (default from settings)"),
    log_level: str = typer.Option("info", help="uvicorn log level"),
) -> None:
    """Serve the web app and the run service (uvicorn)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_level=log_level,
        ws_max_size=settings.max_body_bytes,
        # X-Forwarded-For is ours to read, from PLAYGROUND_TRUSTED_PROXIES only
        # (app.web.hosting.proxies): uvicorn's own default trusts 127.0.0.1.
        proxy_headers=False,
        # Every viewer gets the same finished bytes: per-socket compression would redo
        # zlib work per viewer on the event loop (snapshots are small pixels already).
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=5,
    )


def preset_members(base: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """--preset: the members a recurrent base's preset makes (app.nn.compare.sweep)."""
    from app.nn.compare.sweep import PRESETS

    limits = get_settings().limits()
    try:
        resolved = validate_spec(base, limits).model_dump(mode="json")
    except ValidationError as exc:
        _fail(error_text(exc))
    if resolved["family"] != "rnn" or key not in PRESETS:
        _fail(f"--preset {key!r}: recurrent bases (family rnn) offer {', '.join(PRESETS)}")
    return PRESETS[key][1](resolved, limits.max_seq_len)


@cli.command()
def compare(
    optimizers: str | None = typer.Option(
        None, help="optimizer keys, one member each (default sgd,momentum,adam)"
    ),
    lr: str | None = typer.Option(
        None, help="lr for every member, one per member (0.01,0.1,1), or with one optimizer a sweep"
    ),
    spec_file: Path | None = typer.Option(
        None, "--spec", help="base spec JSON, or a comparison JSON {base, members}"
    ),
    dataset: str | None = typer.Option(None, help="dataset key"),
    samples: int | None = typer.Option(None, help="points generated"),
    noise: float | None = typer.Option(None, help="noise 0..1"),
    layers: str | None = typer.Option(None, help="hidden units, e.g. 8,8 (empty = none)"),
    activation: str | None = typer.Option(None, help="activation of every hidden layer"),
    batch_size: int | None = typer.Option(None, help="batch size (all members)"),
    epochs: int | None = typer.Option(None, help="epochs"),
    seed: int | None = typer.Option(None, help="random seed"),
    target_loss: float | None = typer.Option(
        None, help="training loss that counts as reached (default: 10% of the initial loss)"
    ),
    sequential: bool = typer.Option(False, help="train members one by one, not batched"),
    preset: str | None = typer.Option(
        None, help="recurrent bases: cells (RNN vs GRU vs LSTM) or length-sweep (T 10-100)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print one JSON summary object"),
) -> None:
    """Train several optimizers from the same initial weights and data order (or, from a
    --spec file or a --preset, members with another model); compare them."""
    data: dict[str, Any] = {}
    if spec_file is not None:
        try:
            data = json.loads(spec_file.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            _fail(f"--spec {spec_file}: {exc}")
        if not isinstance(data, dict):
            _fail(f"--spec {spec_file}: expected a JSON object")
    if "members" not in data:  # a plain spec file: it is the base
        data = {"base": data}
    base: dict[str, Any] = data.setdefault("base", {})
    overrides = {
        "seed": seed,
        "data.dataset": dataset,
        "data.samples": samples,
        "data.noise": noise,
        "model.layers": parse_layers(layers, activation),
        "train.batch_size": batch_size,
        "train.epochs": epochs,
    }
    for path, value in overrides.items():
        if value is not None:
            node = base
            *parents, leaf = path.split(".")
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = value
    if activation is not None and layers is None:
        model = base.setdefault("model", {})
        model["layers"] = [
            {**layer, "activation": activation} for layer in model.get("layers", [{}, {}])
        ]
    members = data.get("members") if optimizers is None else None
    if preset is not None:
        members = preset_members(base, preset)
    if members is None:
        names = [n.strip() for n in (optimizers or "sgd,momentum,adam").split(",") if n.strip()]
        try:
            lrs = [float(v) for v in lr.split(",")] if lr else []
        except ValueError:
            _fail(f"--lr: expected numbers like 0.01 or 0.01,0.1, got {lr!r}")
        if len(names) == 1 and len(lrs) > 1:
            names = names * len(lrs)
        if len(lrs) == 1:
            lrs = lrs * len(names)
        if lrs and len(lrs) != len(names):
            _fail(f"--lr: give one value, or one per optimizer ({len(names)})")
        members = [
            {"optimizer": {"name": n, **({"lr": lrs[i]} if lrs else {})}}
            for i, n in enumerate(names)
        ]
    comparison_data = {**data, "members": members}
    if target_loss is not None:
        comparison_data["target_loss"] = target_loss
    from app.nn.compare.lockstep import Comparison  # lazy: see the module docstring
    from app.nn.compare.plan import PlanInvalid, validate_plan
    from app.nn.compare.sweep import describe, outcome
    from app.nn.families.registry import trainer_for

    try:  # members may carry overrides (another model: docs/API.md "Comparisons")
        plan = validate_plan(comparison_data, get_settings().limits())
    except PlanInvalid as exc:
        _fail(str(exc))
    configure_torch()
    comp: Any = (
        plan.engine(trainer_for)  # each member its own network (and its family's trainer)
        if plan.independent
        else Comparison(plan.spec, mode="sequential" if sequential else "auto")
    )
    summary = run_comparison(comp, quiet=as_json)
    specs = [s.model_dump(mode="json") for s in plan.specs]
    found = describe(plan.spec.base.model_dump(mode="json"), specs, plan.labels)
    result = {
        "mode": comp.mode,
        "mode_reason": comp.mode_reason,
        "seconds": summary["seconds"],
        "members": summary["members"],
        "comparison": plan.to_json(),
        "sweep": found and {**found, "outcome": outcome(found, summary["members"])},
    }
    if as_json:
        typer.echo(json.dumps(finite_json(result), allow_nan=False))
    else:
        print_comparison(result)


@cli.command()
def worker(
    processes: int = typer.Option(1, min=1, help="worker processes (one run each at a time)"),
) -> None:
    """Train runs from the job queue (PLAYGROUND_REDIS_URL); see docs/SCALE-OUT.md."""
    import logging

    try:
        from app.runs.execution.queue.runner import serve as serve_queue
    except ImportError as exc:
        _fail(f"the worker needs the queue extra (pip install -e '.[queue]'): {exc}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    raise typer.Exit(serve_queue(get_settings(), processes))


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
