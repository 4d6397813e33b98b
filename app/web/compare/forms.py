"""The compare page's form <-> a comparison request (the JSON POST /api/comparisons takes).

The base experiment uses the playground's field names (`data.dataset`, `train.epochs`...,
see forms.py); each member card uses `members.{i}.optimizer.name`, `members.{i}.optimizer.lr`,
its optimizer's params, `members.{i}.schedule.name` ("" = the base's), `batch_size`, `l1`,
`l2`, `weight_decay` ("" = the base's), `label` and `model`: "" = the base's model, a key
of app.nn.compare.variants (the choices the base's family offers: "mlp" on a CNN base,
"cell:gru", "positions:none"...), or "keep". What a card cannot show (a lesson's model or
loss overrides, gradient clipping, schedule params) rides along in the hidden
`members.{i}.keep` (JSON), with `model` "keep", so nothing is lost on a round trip.
Presets replace the members.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from app.nn.choices.optimizers import OPTIMIZERS
from app.nn.compare.plan import deep_merge, fragment, leaves, split_member
from app.nn.compare.spec import MAX_MEMBERS, MIN_MEMBERS
from app.nn.compare.sweep import PRESETS as SEQ_PRESETS
from app.nn.compare.variants import Variant, resolve_family, variants
from app.nn.spec.base import Limits
from app.nn.spec.experiment import validate_spec
from app.web.common.form_keys import bounded_index, small_int
from app.web.playground.forms import form_to_spec

Member = dict[str, Any]
KEEP = "keep"  # the model select: the member's overrides as they are (a link's, a lesson's)
NUMBERS = ("batch_size", "l1", "l2", "weight_decay")  # "" = the base's value
KEPT = ("grad_clip", "overrides")
LENGTH = "rnn.length"  # a recurrent member's own T: a card field beside its model choice


def _sgd_family(base: dict[str, Any]) -> float:
    opt = base["train"]["optimizer"]
    return float(opt["lr"]) if opt["name"] in ("sgd", "momentum", "nesterov") else 0.03


def _sweep(base: dict[str, Any]) -> list[Member]:
    opt = base["train"]["optimizer"]
    return [
        {"optimizer": {**opt, "lr": round(opt["lr"] * f, 10)}, "label": f"lr={opt['lr'] * f:.3g}"}
        for f in (0.1, 0.3, 1.0, 3.0)
    ]


PRESETS: dict[str, tuple[str, Callable[[dict[str, Any]], list[Member]]]] = {
    "momentum": (
        "SGD vs momentum vs Nesterov",
        lambda b: [
            {"optimizer": {"name": "sgd", "lr": _sgd_family(b)}, "label": "SGD"},
            {"optimizer": {"name": "momentum", "lr": _sgd_family(b)}, "label": "momentum"},
            {"optimizer": {"name": "nesterov", "lr": _sgd_family(b)}, "label": "Nesterov"},
        ],
    ),
    "rmsprop-adam": (
        "RMSProp vs Adam",
        lambda b: [
            {"optimizer": {"name": "rmsprop", "lr": 0.01}, "label": "RMSProp"},
            {"optimizer": {"name": "adam", "lr": 0.01}, "label": "Adam"},
        ],
    ),
    "adam-adamw": (
        "Adam vs AdamW",
        lambda b: [
            {"optimizer": {"name": "adam", "lr": 0.01}, "l2": 0.01, "label": "Adam + L2"},
            {"optimizer": {"name": "adamw", "lr": 0.01}, "weight_decay": 0.01, "label": "AdamW"},
        ],
    ),
    "lr-sweep": ("Learning-rate sweep", _sweep),
}
# Presets of one family's bases (what they compare is the model; `max_len` the server's T).
FAMILY_PRESETS = {"rnn": SEQ_PRESETS}


def presets_for(base: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, label) of the presets a (resolved) base offers: its family's, then the rest."""
    own = FAMILY_PRESETS.get(base.get("family", "mlp"), {})
    return [(k, label) for k, (label, _) in own.items()] + [
        (k, label) for k, (label, _) in PRESETS.items()
    ]


def resolved_base(base: Any, limits: Limits | None = None) -> dict[str, Any]:
    """The base as a full spec dict; while it is invalid, its family's defaults (what the
    model choices are computed from)."""
    try:
        return validate_spec(base, limits).model_dump(mode="json")
    except (ValueError, TypeError):
        family = base.get("family") if isinstance(base, dict) else None
        try:
            return validate_spec({"family": family}).model_dump(mode="json")
        except (ValueError, TypeError):
            return validate_spec({}).model_dump(mode="json")


def _model_of(
    base: dict[str, Any], overrides: dict[str, Any], limits: Limits | None
) -> dict[str, Any] | None:
    """The model part of the spec these overrides make (None: they do not validate)."""
    try:
        spec = validate_spec(deep_merge(base, resolve_family(base, overrides)), limits)
    except (ValueError, TypeError):
        return None
    return spec.model_dump(mode="json", exclude={"train", "stream"})


def model_choice(
    base: dict[str, Any], overrides: Any, offered: list[Variant], limits: Limits | None = None
) -> str:
    """The select value of a member's overrides: "" (none), the offered choice making the
    same network (a link spells it as a fragment: the same choice), or KEEP."""
    if not overrides:
        return ""
    mine = _model_of(base, overrides, limits)
    for v in offered:
        if mine is not None and _model_of(base, v.overrides, limits) == mine:
            return v.key
    return KEEP


def split_length(base: dict[str, Any], overrides: Any) -> tuple[Any, Any]:
    """(the overrides without rnn.length, that length or None) for a recurrent base; what
    is left is cut to where it differs from the base (a preset's "cell": the base's own)."""
    rnn = overrides.get("rnn") if isinstance(overrides, dict) else None
    if base.get("family") != "rnn" or not isinstance(rnn, dict) or "length" not in rnn:
        return overrides, None
    rest = {k: v for k, v in overrides.items() if k != "rnn"}
    rest["rnn"] = {k: v for k, v in rnn.items() if k != "length"}
    return fragment(base, deep_merge(base, rest)), rnn["length"]


def members_to_values(
    members: list[Member], base: dict[str, Any] | None = None, limits: Limits | None = None
) -> dict[str, Any]:
    """Form values (full field names) for member cards; `base` (resolved) names the model
    choice of each member's overrides."""
    values: dict[str, Any] = {"ui.members": len(members)}
    offered = variants(base) if base else []
    for i, m in enumerate(members):
        p = f"members.{i}."
        ov, length = split_length(base, m.get("overrides")) if base else (m.get("overrides"), None)
        choice = model_choice(base, ov, offered, limits) if base else KEEP
        values[p + "model"] = choice
        values[p + LENGTH] = "" if length is None else length
        opt = dict(m.get("optimizer") or {})
        values[p + "label"] = m.get("label") or ""
        values[p + "optimizer.name"] = opt.pop("name", "sgd")
        values[p + "optimizer.lr"] = opt.pop("lr", "")
        values.update({f"{p}optimizer.{k}": v for k, v in opt.items()})
        schedule = m.get("schedule") or {}
        values[p + "schedule.name"] = schedule.get("name", "")
        for key in NUMBERS:
            value = m.get(key)
            values[p + key] = "" if value is None else value
        keep = {k: m[k] for k in KEPT if k in m and k != "overrides"}
        if ov and choice == KEEP:
            keep["overrides"] = ov
        if len(schedule) > 1:  # a schedule with parameters (a lesson's)
            keep["schedule"] = schedule
        values[p + "keep"] = json.dumps(keep) if keep else ""
    return values


def kept_text(keep: str) -> str:
    """What a card's hidden `keep` holds, for a reader: "activation=relu, clip 1"."""
    try:
        data = json.loads(keep) if keep else {}
    except ValueError:
        return ""
    parts = []
    if isinstance(data, dict):
        layers: dict[str, list[str]] = {}  # "activation=relu" -> layer numbers
        for path, value in leaves(data.get("overrides") or {}).items():
            bits = path.split(".")
            if len(bits) == 4 and bits[:2] == ["model", "layers"] and bits[2].isdigit():
                layers.setdefault(f"{bits[3]}={value}", []).append(str(int(bits[2]) + 1))
            else:
                parts.append(f"{path}={value}")
        for setting, where in layers.items():
            parts.append(f"{setting} (layer{'s' if len(where) > 1 else ''} {', '.join(where)})")
        if "grad_clip" in data:
            clip = data["grad_clip"]
            parts.append(f"clip {clip['mode']} {clip['max']}" if clip else "no clipping")
        if "schedule" in data:
            params = {k: v for k, v in data["schedule"].items() if k != "name"}
            parts.append(
                f"{data['schedule']['name']} " + " ".join(f"{k}={v}" for k, v in params.items())
            )
    unique = list(dict.fromkeys(parts))
    return ", ".join(unique[:4]) + (f" (+{len(unique) - 4} more)" if len(unique) > 4 else "")


def _member_from_values(values: dict[str, str], offered: dict[str, Variant]) -> Member:
    name = values.get("optimizer.name", "sgd")
    allowed = OPTIMIZERS[name].param_defaults() if name in OPTIMIZERS else {}
    opt: dict[str, Any] = {"name": name, "lr": values.get("optimizer.lr", "")}
    for key in allowed:
        value = values.get(f"optimizer.{key}", "")
        if value != "":
            opt[key] = value
    member: Member = {"optimizer": opt}
    if values.get("label", "").strip():
        member["label"] = values["label"].strip()
    try:
        keep = json.loads(values.get("keep") or "{}")
    except ValueError:
        keep = {}
    keep = keep if isinstance(keep, dict) else {}
    schedule = values.get("schedule.name", "")
    if schedule:
        kept = keep.get("schedule")
        member["schedule"] = (
            kept if isinstance(kept, dict) and kept.get("name") == schedule else {"name": schedule}
        )
    for key in NUMBERS:
        if values.get(key, "").strip() != "":
            member[key] = values[key].strip()
    member.update({k: keep[k] for k in KEPT if k in keep})
    choice = values.get("model", KEEP)  # a card without the select keeps what it had
    if choice != KEEP:
        member.pop("overrides", None)
        if choice in offered:
            member["overrides"] = offered[choice].overrides
    length = values.get(LENGTH, "").strip()
    if length:  # the member's own T (a recurrent base): its data, beside its model
        member["overrides"] = deep_merge(member.get("overrides") or {}, {"rnn": {"length": length}})
    return member


def form_to_request(
    items: list[tuple[str, str]], max_layers: int, limits: Limits | None = None
) -> tuple[dict[str, Any], str]:
    """(comparison request, ui action) from the posted form; FormFieldError for a field name
    no form has (a member index at or beyond MAX_MEMBERS, a layer beyond `max_layers`)."""
    base_items = [(k, v) for k, v in items if not k.startswith("members.")]
    count = next((small_int(v, 0) for k, v in items if k == "ui.members"), 0)
    cards: list[dict[str, str]] = [{} for _ in range(min(count, MAX_MEMBERS))]
    for key, value in items:
        parts = key.split(".", 2)
        if parts[0] == "members" and len(parts) == 3 and parts[1].isdigit():
            i = bounded_index("members", parts[1], MAX_MEMBERS, "members")
            if i < len(cards):
                cards[i][parts[2]] = value  # the last value wins (hidden "off" + checkbox)
    action = next((v for k, v in items if k == "ui.action"), "")
    target = next((v for k, v in items if k == "ui.target_loss"), "").strip()
    base = form_to_spec(base_items, max_layers)
    offered = {v.key: v for v in variants(resolved_base(base, limits))}
    request: dict[str, Any] = {
        "base": base,
        "members": [_member_from_values(c, offered) for c in cards],
    }
    if target:
        request["target_loss"] = target
    return request, action


# Presets read at the end of a budget (a sweep's "fails at T"): a base that trains until
# paused gets its family's default epochs instead, so the table settles.
BUDGETED = ("length-sweep",)


def fixed_budget(request: dict[str, Any], base: dict[str, Any]) -> None:
    train = request.setdefault("base", {}).setdefault("train", {})
    if train.get("until_paused"):
        default = validate_spec({"family": base.get("family", "mlp")}).train.epochs
        train.update(until_paused=False, epochs=default)


def apply_member_action(
    request: dict[str, Any], action: str, base: dict[str, Any], limits: Limits | None = None
) -> bool:
    """Add / remove a member, or load a preset; True if the action was one of these."""
    members: list[Member] = request["members"]
    name, _, arg = action.partition(":")
    own = FAMILY_PRESETS.get(base.get("family", "mlp"), {})
    if name == "preset" and arg in own:
        request["members"] = own[arg][1](base, (limits or Limits()).max_seq_len)
        if arg in BUDGETED:
            fixed_budget(request, base)
        return True
    if name == "add_member" and len(members) < MAX_MEMBERS:
        members.append(json.loads(json.dumps(members[-1])) if members else {"optimizer": {}})
        members[-1].pop("label", None)
    elif name == "remove_member" and len(members) > MIN_MEMBERS:
        if 0 <= small_int(arg) < len(members):  # a stale or forged index removes nothing
            members.pop(small_int(arg))
    elif name == "preset" and arg in PRESETS:
        request["members"] = PRESETS[arg][1](base)
    else:
        return False
    return True


def request_from_specs(
    base: dict[str, Any], members: list[tuple[str, dict[str, Any]]], target: float | None
) -> dict[str, Any]:
    """A request from resolved spec dicts (a link, a lesson): members as differences."""
    out: dict[str, Any] = {
        "base": base,
        "members": [split_member(base, spec, label) for label, spec in members],
    }
    if target is not None:
        out["target_loss"] = target
    return out
