"""Architecture comparisons: a member whose model differs from the base's.

A member's `overrides` (app/nn/compare/plan.py) may change the model: the family's own part
fields (`transformer.positions`, `transformer.norm`, `rnn.cell`, `cnn.conv`...), the dense
layers (`model.layers`), or the family itself where both can read the base's data. The one
such pair today is an MLP on a CNN's images: `{"family": "mlp"}` on a `cnn` base is the
dense net on the flattened image, i.e. the cnn family with no conv layers (its data, splits
and batches are the base's); without `model.layers` it gets two ReLU layers of 32.

Three things live here, each read by the plan, the compare page and the docs:
- `resolve_family`: the family switch of one member's overrides, or a FieldError naming
  the member field (`family`, or a part of another family) when the data do not fit;
- `arch_labels`: readable legend names from what varies among the members' models
  ("CNN 2 conv" vs "MLP 32x32", "GRU", "no positions");
- `variants`: the model choices the compare page offers a member of a given base (a
  member's select), derived from the families' own registries (cells, positions).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, get_args

from app.nn.choices.cells import CELLS
from app.nn.choices.positions import POSITIONS
from app.nn.choices.registry import FieldError
from app.nn.spec.experiment import FamilyKey, Spec, _part_class

FAMILIES = get_args(FamilyKey)
# (base family, member family) -> what the member trains. Another pair would need data both
# families read; none does today (the MLP's inputs are 2-D points, the others' their own).
CROSS = {("cnn", "mlp"): "a dense net on the flattened image (no conv layers)"}
DENSE_LAYERS = [{"units": 32, "activation": "relu"}, {"units": 32, "activation": "relu"}]
# Spec fields that are not the model (what the member fields and the base decide).
NOT_MODEL = ("train", "stream", "seed", "data")


def resolve_family(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Overrides without a `family` switch: the same family's fields, or the cross-family
    pair spelled in them. FieldError (path from the member) when they cannot apply."""
    family = overrides.get("family", base["family"])
    if family not in FAMILIES:
        raise FieldError("family", f"unknown family {family!r}; allowed: {', '.join(FAMILIES)}")
    out = {k: copy.deepcopy(v) for k, v in overrides.items() if k != "family"}
    for part in FAMILIES:  # a part of a family no member trains (rnn fields on a transformer)
        if part != "mlp" and part in out and part != base["family"]:
            raise FieldError(
                part,
                f"this comparison's members are {base['family']} networks: "
                f"{part} fields do not apply",
            )
    if family == base["family"]:
        return out
    if (base["family"], family) not in CROSS:
        raise FieldError(
            "family",
            f"a {family} member cannot train on this comparison's data "
            f"({_data_name(base)}); members of another family need data both read: "
            + "; ".join(f"{m} on a {b} base" for b, m in CROSS),
        )
    # cnn -> mlp: the conv stack goes; the dense layers read the flattened pixels.
    for key in ("cnn", "model"):
        if not isinstance(out.setdefault(key, {}), dict):
            raise FieldError(key, "expected an object")
    if out["cnn"].get("conv"):
        raise FieldError("cnn.conv", "an MLP member has no conv layers")
    out["cnn"]["conv"] = []
    model = out["model"]
    if "layers" not in model:
        model["layers"] = base["model"]["layers"] or copy.deepcopy(DENSE_LAYERS)
    return out


def data_fields(family: str) -> tuple[str, ...]:
    """The dotted paths of a family part's fields that make the data (rnn.length...)."""
    part = _part_class(Spec.model_fields[family].annotation) if family != "mlp" else None
    return tuple(f"{family}.{f}" for f in part.data_fields) if part else ()


def data_paths(specs: list[dict[str, Any]]) -> list[str]:
    """Where the members' data differ: `data.*` (points, splits) or a part's data fields."""
    flat = [
        {
            **{f"data.{k}": repr(v) for k, v in s["data"].items()},
            **{p: repr(s[p.split(".")[0]][p.split(".")[1]]) for p in data_fields(s["family"])},
        }
        for s in specs
    ]
    keys = dict.fromkeys(k for f in flat for k in f)
    return [k for k in keys if len({f.get(k) for f in flat}) > 1]


def _data_name(base: dict[str, Any]) -> str:
    part = base.get(base["family"]) if base["family"] != "mlp" else None
    dataset = part.get("dataset") if isinstance(part, dict) else base["data"]["dataset"]
    return f"{base['family']} data: {dataset}"


def _model_leaves(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths of a resolved spec's model fields (lists of dicts item by item)."""
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for key, value in tree.items():
            if not prefix and key in NOT_MODEL:
                continue
            out.update(_model_leaves(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: tree}


def _widths(layers: list[dict[str, Any]]) -> str:
    return "x".join(str(layer["units"]) for layer in layers) or "linear"


def _describe(spec: dict[str, Any], varies: list[str], mixed: bool) -> str:
    """What this member is on the given model paths; `mixed`: MLP and CNN members together
    (then the dense layers are the MLP's story, not a difference of the CNN's head)."""
    parts: list[str] = []
    covered: set[str] = set()

    def take(prefix: str) -> bool:
        hit = [p for p in varies if p not in covered and (p == prefix or p.startswith(prefix))]
        covered.update(hit)
        return bool(hit)

    fam, layers = spec["family"], spec["model"]["layers"]
    if fam == "cnn" and (take("cnn.conv") or (mixed and "model.layers" in varies)):
        take("model.layers") if mixed else None
        conv = spec["cnn"]["conv"]
        if not conv:
            parts.append(f"MLP {_widths(layers)}")
        else:
            parts.append(f"CNN {len(conv)} conv" + (f" + dense {_widths(layers)}" * bool(layers)))
    part = spec.get(fam) if fam != "mlp" else None
    if isinstance(part, dict):
        if take(f"{fam}.cell"):
            parts.append(CELLS[part["cell"]].label)
        if take(f"{fam}.positions"):
            pos = part["positions"]
            parts.append("no positions" if pos == "none" else f"{pos} positions")
        if take(f"{fam}.norm"):
            parts.append(f"{part['norm']}-LN")
        if take(f"{fam}.causal"):
            parts.append("causal" if part["causal"] else "bidirectional")
        if fam == "rnn" and take("rnn.length"):
            parts.append(f"T={part['length']}")
    if take("model.layers"):
        acts = {layer["activation"] for layer in layers}
        if not layers:
            parts.append("linear" if fam == "mlp" else "no dense head")
        else:
            text = ("layers " if fam == "mlp" else "head ") + _widths(layers)
            parts.append(text + (f" {acts.pop()}" if len(acts) == 1 else ""))
    leaves = _model_leaves(spec)
    for path in varies:
        if path not in covered and len(parts) < 4:
            parts.append(f"{path.rsplit('.', 1)[-1]}={leaves.get(path)}")
    return " ".join(parts)


def varying_paths(specs: list[dict[str, Any]], with_data: bool = True) -> list[str]:
    """Model paths (a list compared whole) whose values differ among the specs; with the
    family part's data fields (rnn.length) unless `with_data` is False."""
    flat = [_model_leaves(s) for s in specs]
    paths: dict[str, None] = {}
    for leaves in flat:
        paths.update(dict.fromkeys(leaves))
    data = {p for s in specs for p in data_fields(s["family"])} if not with_data else set()
    return [p for p in paths if p not in data and len({repr(f.get(p)) for f in flat}) > 1]


def arch_labels(base: dict[str, Any], specs: list[dict[str, Any]]) -> list[str]:
    """Per member, its model where it differs from the base ("GRU", "no positions"); a
    member with the base's model, on every path that varies ("LSTM", "sinusoidal
    positions"). All "" when the members' models are the same."""
    varies = varying_paths(specs)
    if not varies:
        return ["" for _ in specs]
    convs = [bool(s["cnn"]["conv"]) for s in specs if s["family"] == "cnn"]
    mixed = len(set(convs)) > 1
    # Members over several data sizes (a sweep of T) read as a grid: each names every
    # varying path ("LSTM T=50"), not only where it leaves the base.
    grid = any(p in data_fields(s["family"]) for s in specs for p in varies)
    out = []
    for spec in specs:
        own = [p for p in varying_paths([base, spec]) if p in varies]
        out.append(_describe(spec, varies if grid else own or varies, mixed))
    return out


@dataclass(frozen=True)
class Variant:
    key: str  # stable: the compare page's select value
    label: str
    overrides: dict[str, Any]


def variants(base: dict[str, Any]) -> list[Variant]:
    """The model choices a member of this (resolved) base may take on the compare page."""
    fam = base["family"]
    part = base.get(fam) if fam != "mlp" else None
    out: list[Variant] = []
    if fam == "mlp":
        layers = base["model"]["layers"]
        out.append(Variant("linear", "no hidden layer (linear)", {"model": {"layers": []}}))
        if layers:
            wide = [{**layer, "units": layer["units"] * 2} for layer in layers]
            out.append(Variant("wider", "twice as wide", {"model": {"layers": wide}}))
            more = [*layers, dict(layers[-1])]
            out.append(Variant("deeper", "one more layer", {"model": {"layers": more}}))
    elif fam == "cnn" and isinstance(part, dict):
        out.append(Variant("mlp", "MLP (dense net on the pixels)", {"family": "mlp"}))
        if len(part["conv"]) > 1:
            one = {"cnn": {"conv": part["conv"][:1]}}
            out.append(Variant("conv1", "CNN with 1 conv layer", one))
    elif fam == "rnn" and isinstance(part, dict):
        out += [
            Variant(f"cell:{c.key}", c.label, {"rnn": {"cell": c.key}})
            for c in CELLS.values()
            if c.key != part["cell"]
        ]
    elif fam == "transformer" and isinstance(part, dict):
        out += [
            Variant(
                f"positions:{p.key}",
                "no positions" if p.key == "none" else f"{p.label} positions",
                {"transformer": {"positions": p.key}},
            )
            for p in POSITIONS.values()
            if p.key != part["positions"]
        ]
        other = "post" if part["norm"] == "pre" else "pre"
        out.append(Variant(f"norm:{other}", f"{other}-LN", {"transformer": {"norm": other}}))
        flip = not part["causal"]
        out.append(
            Variant(
                f"causal:{str(flip).lower()}",
                "causal" if flip else "bidirectional",
                {"transformer": {"causal": flip}},
            )
        )
    return out
