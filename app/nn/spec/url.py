"""The spec's compact URL form: short query keys, only values that differ from the defaults.

Stable across versions: keys are never renamed (new fields get new keys) and a missing key
means "the default", so an old link keeps opening the same experiment.

    ?d=spiral&l=16:tanh,16:tanh&o=adam&lr=0.01&ep=300
Layers are `units:activation[:norm[:dropout[:r]]]`; parameter lists are `name:value,...`.
A family other than the MLP: `fam=rnn` and its part's scalar fields that differ from the
part's defaults under the family's key (`rnn=cell:gru,length:50`); the other keys then
compare with that family's default spec. A part's field that is a list or an object (the
convolutional family's layers, its augmentation) goes under its own key as compact JSON:
`cnn.conv=[{"channels":4}]`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, get_args
from urllib.parse import urlencode

from app.nn.choices.optimizers import OPTIMIZERS
from app.nn.choices.registry import Registry
from app.nn.choices.schedules import SCHEDULES
from app.nn.spec.experiment import FamilyKey, Spec

FAMILY_KEYS = get_args(FamilyKey)

# short key -> dotted spec path (scalars)
SCALARS: dict[str, str] = {
    "s": "seed",
    "d": "data.dataset",
    "n": "data.samples",
    "nz": "data.noise",
    "tr": "data.train_fraction",
    "va": "data.val_fraction",
    "i": "model.init",
    "is": "model.init_scale",
    "bi": "model.bias_init",
    "o": "train.optimizer.name",
    "lr": "train.optimizer.lr",
    "sc": "train.schedule.name",
    "loss": "train.loss",
    "ls": "train.label_smoothing",
    "hd": "train.huber_delta",
    "bs": "train.batch_size",
    "ep": "train.epochs",
    "up": "train.until_paused",
    "l1": "train.l1",
    "l2": "train.l2",
    "wd": "train.weight_decay",
    "in": "train.input_noise",
    "ee": "stream.eval_every",
    "g": "stream.grid_size",
    "ng": "stream.neuron_grids",
    "pc": "stream.pace",
    "fam": "family",
}
STRUCTURED = ("f", "l", "op", "sp", "gc", "es")
_DEFAULTS: dict[str, dict[str, Any]] = {}


def _default(family: str = "mlp") -> dict[str, Any]:
    if family not in _DEFAULTS:
        _DEFAULTS[family] = Spec.model_validate({"family": family}).model_dump(mode="json")
    return _DEFAULTS[family]


def _parts() -> list[str]:
    """The spec's family-part fields (each family's own key in the URL)."""
    return [name for name in Spec.model_fields if name in FAMILY_KEYS and name != "mlp"]


def _get(tree: Mapping[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        node = node[part]
    return node


def _set(tree: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = tree
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value).removesuffix(".0") if value == int(value) else repr(value)
    return str(value)


def _params(named: Mapping[str, Any], registry: Registry[Any]) -> str:
    """name:value pairs for the entry's params that differ from their defaults."""
    defaults = registry[named["name"]].param_defaults()
    return ",".join(
        f"{k}:{_fmt(v)}" for k, v in named.items() if k in defaults and v != defaults[k]
    )


def _layer(layer: Mapping[str, Any]) -> str:
    parts = [str(layer["units"]), layer["activation"], layer["norm"], _fmt(layer["dropout"])]
    if layer["residual"]:
        parts.append("r")
    while len(parts) > 2 and parts[-1] in ("none", "0"):
        parts.pop()
    return ":".join(parts)


def to_query(spec: Spec) -> dict[str, str]:
    """The compact query parameters of a spec (defaults omitted)."""
    full = spec.model_dump(mode="json")
    base = _default(spec.family)
    out: dict[str, str] = {}
    for key, path in SCALARS.items():
        value = _get(full, path)
        if value != _get(base, path) and value is not None:
            out[key] = _fmt(value)
    if spec.family != "mlp":
        out["fam"] = spec.family
        part, default = full[spec.family], base[spec.family]
        changed = {k: v for k, v in part.items() if v != default[k]}
        text = ",".join(
            f"{k}:{_fmt(v)}" for k, v in changed.items() if not isinstance(v, list | dict)
        )
        if text:
            out[spec.family] = text
        for k, v in changed.items():
            if isinstance(v, list | dict):
                out[f"{spec.family}.{k}"] = json.dumps(v, separators=(",", ":"))
    if full["train"]["until_paused"]:
        out.pop("ep", None)  # the cap, not a choice: the link opens under its reader's caps
    # A missing lr means the optimizer's own default, not the default spec's (but a family's
    # default optimizer, named or not, keeps the family's lr: train_defaults).
    optimizer = full["train"]["optimizer"]
    same = spec.family != "mlp" and optimizer["name"] == base["train"]["optimizer"]["name"]
    implied = base["train"]["optimizer"]["lr"] if same else OPTIMIZERS[optimizer["name"]].default_lr
    if optimizer["lr"] != implied:
        out["lr"] = _fmt(optimizer["lr"])
    else:
        out.pop("lr", None)
    if full["data"]["features"] != base["data"]["features"]:
        out["f"] = ",".join(full["data"]["features"])
    if full["model"]["layers"] != base["model"]["layers"]:
        out["l"] = ",".join(_layer(layer) for layer in full["model"]["layers"]) or "-"
    for key, group, registry in (("op", "optimizer", OPTIMIZERS), ("sp", "schedule", SCHEDULES)):
        text = _params(full["train"][group], registry)
        if text:
            out[key] = text
    if full["train"]["grad_clip"]:
        out["gc"] = (
            f"{full['train']['grad_clip']['mode']}:{_fmt(full['train']['grad_clip']['max'])}"
        )
    if full["train"]["early_stopping"]:
        es = full["train"]["early_stopping"]
        out["es"] = f"{es['patience']}:{_fmt(es['min_delta'])}"
    return out


def to_url_query(spec: Spec) -> str:
    return urlencode(to_query(spec), safe=":,")


def _pairs(text: str, key: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in filter(None, text.split(",")):
        name, sep, value = item.partition(":")
        if not sep or not name:
            raise ValueError(f"URL key {key!r}: expected name:value pairs, got {item!r}")
        pairs[name] = value
    return pairs


def _parse_layer(text: str, index: int) -> dict[str, Any]:
    parts = text.split(":")
    if len(parts) > 5 or not parts[0]:
        raise ValueError(
            f"URL key 'l': layer {index + 1} {text!r} is not units:activation[:norm[:dropout[:r]]]"
        )
    layer: dict[str, Any] = {"units": parts[0]}
    for name, value in zip(("activation", "norm", "dropout"), parts[1:4], strict=False):
        layer[name] = value
    if len(parts) == 5:
        if parts[4] != "r":
            raise ValueError(f"URL key 'l': layer {index + 1}: the fifth part must be 'r'")
        layer["residual"] = True
    return layer


def from_query(query: Mapping[str, str]) -> dict[str, Any]:
    """A spec dict (to validate) from compact query parameters; ValueError on unknown keys."""
    nested = {k for k in query if k.partition(".")[0] in _parts() and "." in k}
    unknown = sorted(set(query) - set(SCALARS) - set(STRUCTURED) - set(_parts()) - nested)
    if unknown:
        raise ValueError(f"unknown URL key(s): {', '.join(unknown)}")
    spec: dict[str, Any] = {}
    for key, path in SCALARS.items():
        if key in query:
            _set(spec, path, query[key])
    for family in _parts():
        if family in query:
            spec[family] = _pairs(query[family], family)
    for key in sorted(nested):
        family, _, field = key.partition(".")
        try:
            value = json.loads(query[key])
        except ValueError:
            raise ValueError(f"URL key {key!r}: expected JSON") from None
        part = spec.setdefault(family, {})
        if isinstance(part, dict):
            part[field] = value
    if "f" in query:
        spec.setdefault("data", {})["features"] = [f for f in query["f"].split(",") if f]
    if "l" in query:
        text = query["l"]
        layers = [] if text in ("", "-") else text.split(",")
        spec.setdefault("model", {})["layers"] = [_parse_layer(t, i) for i, t in enumerate(layers)]
    train = spec.setdefault("train", {})
    if "op" in query:
        train.setdefault("optimizer", {}).update(_pairs(query["op"], "op"))
    if "sp" in query:
        train.setdefault("schedule", {}).update(_pairs(query["sp"], "sp"))
    if "gc" in query:
        mode, _, limit = query["gc"].partition(":")
        train["grad_clip"] = {"mode": mode, "max": limit or 1.0}
    if "es" in query:
        patience, _, delta = query["es"].partition(":")
        train["early_stopping"] = {"patience": patience, "min_delta": delta or 0.0}
    if not train:
        spec.pop("train")
    return spec
