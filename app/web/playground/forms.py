"""The playground form <-> spec: dotted field names (`train.optimizer.lr`) map to spec paths.

The form is the page's single source of input; the server validates it on every change and
re-renders the controls with per-field messages, keeping what the user typed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from app.nn.choices.optimizers import OPTIMIZERS
from app.nn.choices.schedules import SCHEDULES
from app.web.common.form_keys import insert, small_int

MULTI = {"data.features"}  # fields sent once per checked box
OPTIONAL_EMPTY = {"model.init_scale", "model.bias_init"}  # "" means "the scheme's default"
TOGGLED = {
    "train.grad_clip": "train.grad_clip.enabled",
    "train.early_stopping": "train.early_stopping.enabled",
}


# Lists of a family's part the form edits (dotted path -> the ui.* count field that says how
# many items the form has, so that none reads as "none", not as "the default").
PART_LISTS = {"cnn.conv": "ui.conv"}


def form_to_spec(items: Iterable[tuple[str, str]], max_layers: int) -> dict[str, Any]:
    """Nested spec dict from form items. For a scalar field the last value wins, so a hidden
    "off" input followed by a checkbox of the same name reads as a boolean. A field name the
    form cannot have (a layer index at or beyond `max_layers`, ...) raises FormFieldError."""
    scalars: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    layer_total: int | None = None
    part_totals: dict[str, int] = {}
    for key, value in items:
        if key == "ui.layers" and small_int(value) >= 0:
            layer_total = small_int(value)
        for path, marker in PART_LISTS.items():
            if key == marker and small_int(value) >= 0:
                part_totals[path] = small_int(value)
        if key.startswith("ui."):
            continue
        if key in MULTI:  # a hidden "" input marks the group as present when none is checked
            multi.setdefault(key, [])
            if value:
                multi[key].append(value)
        else:
            scalars[key] = value
    for group, flag in TOGGLED.items():
        enabled = scalars.pop(flag, "off") == "on"
        if not enabled:
            for key in [k for k in scalars if k.startswith(group + ".")]:
                del scalars[key]
    _drop_stale_params(scalars, "train.optimizer", OPTIMIZERS.keys(), _optimizer_params)
    _drop_stale_params(scalars, "train.schedule", SCHEDULES.keys(), _schedule_params)
    tree: dict[str, Any] = {}
    if layer_total is not None:
        # Without this marker a network with no hidden layer would read as "use the default".
        tree["model"] = {"layers": []}
    lists = {"model.layers": max_layers, **dict.fromkeys(PART_LISTS, max_layers)}
    for key, value in scalars.items():
        if key in OPTIONAL_EMPTY and value.strip() == "":
            continue
        insert(tree, key.split("."), value, lists)
    for key, values in multi.items():
        insert(tree, key.split("."), values, lists)
    if layer_total is not None:
        tree["model"]["layers"] = tree["model"]["layers"][:layer_total]
    for path, total in part_totals.items():
        part, name = path.split(".")
        node = tree.setdefault(part, {})
        if isinstance(node, dict):
            items_ = node.get(name, [])
            node[name] = items_[:total] if isinstance(items_, list) else items_
    return tree


def _optimizer_params(name: str) -> set[str]:
    return {"name", "lr", *OPTIMIZERS[name].param_defaults()}


def _schedule_params(name: str) -> set[str]:
    return {"name", *SCHEDULES[name].param_defaults()}


def _drop_stale_params(
    scalars: dict[str, str], prefix: str, known: list[str], allowed: Any
) -> None:
    """After a switch of optimizer or schedule the old one's inputs may still be posted."""
    name = scalars.get(prefix + ".name")
    if name not in known:
        return
    keep = allowed(name)
    for key in [k for k in scalars if k.startswith(prefix + ".")]:
        if key[len(prefix) + 1 :] not in keep:
            del scalars[key]


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths -> leaf values (lists of scalars stay lists)."""
    out: dict[str, Any] = {}
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            out.update(flatten(value, f"{prefix}{key}."))
    elif isinstance(tree, list) and tree and isinstance(tree[0], Mapping):
        for i, value in enumerate(tree):
            out.update(flatten(value, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = tree
    return out


def spec_to_values(spec_json: Mapping[str, Any]) -> dict[str, Any]:
    """Form values for a resolved spec, including the on/off flags of optional groups."""
    values = flatten(spec_json)
    train = spec_json["train"]
    for group, flag in TOGGLED.items():
        values[flag] = train[group.split(".")[1]] is not None
    if values.get("model.layers") == []:
        values.pop("model.layers")
    return values


def layer_count(values: Mapping[str, Any]) -> int:
    indices = [
        int(k.split(".")[2])
        for k in values
        if k.startswith("model.layers.") and k.split(".")[2].isdigit()
    ]
    return max(indices) + 1 if indices else 0
