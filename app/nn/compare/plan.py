"""A comparison as the run service takes it: a ComparisonSpec whose members may also carry
`overrides`, a spec fragment for what a ComparisonSpec cannot vary (the model, the loss, the
data...). Lessons compare exactly such things (tanh vs ReLU, BatchNorm or not).

    plan = validate_plan({"base": {...}, "members": [{"optimizer": {...}}, ...]}, limits)
    engine = plan.engine()      # Comparison (shared weights, batched) or IndependentComparison

Without overrides every member starts from the same weights and sees the same batches
(`Comparison`). With overrides each member is its own experiment (`IndependentComparison`),
still with the base's seed: same data, and the same initial weights wherever the shapes and
the init scheme agree. Errors are [{"field", "message"}] with paths like
"members.2.optimizer.lr" or "members.1.model.layers.0.activation".
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.nn.choices.registry import FieldError
from app.nn.compare.independent import IndependentComparison
from app.nn.compare.lockstep import Comparison
from app.nn.compare.spec import OVERRIDES, ComparisonSpec, validate_comparison
from app.nn.compare.variants import arch_labels, data_paths, resolve_family, varying_paths
from app.nn.spec.base import Limits, error_list
from app.nn.spec.experiment import Spec, validate_spec

Errors = list[dict[str, str]]
# What a member sets directly rather than through overrides.
MEMBER_TRAIN_KEYS = ("optimizer", *OVERRIDES)


class PlanInvalid(ValueError):
    """Field-level errors: `errors` is [{"field", "message"}]."""

    def __init__(self, errors: Errors) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def deep_merge(base: Any, override: Any) -> Any:
    """Override wins; dicts merge by key, equal-length lists of dicts item by item (so
    `[{}, {"norm": "batch"}]` touches the second layer only); other lists are replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if (
        isinstance(base, list)
        and isinstance(override, list)
        and len(base) == len(override)
        and all(isinstance(x, dict) for x in base + override)
    ):
        return [deep_merge(b, o) for b, o in zip(base, override, strict=True)]
    return copy.deepcopy(override)


def fragment(base: Any, other: Any) -> Any:
    """The smallest override with deep_merge(base, fragment) == other (for differing values)."""
    if isinstance(base, dict) and isinstance(other, dict):
        return {
            k: fragment(base[k], v) if k in base else copy.deepcopy(v)
            for k, v in other.items()
            if k not in base or base[k] != v
        }
    if (
        isinstance(base, list)
        and isinstance(other, list)
        and len(base) == len(other)
        and all(isinstance(x, dict) for x in base + other)
    ):
        return [fragment(b, o) if b != o else {} for b, o in zip(base, other, strict=True)]
    return copy.deepcopy(other)


def leaves(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths of the values a fragment sets (empty dicts and list items skipped)."""
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(leaves(value, f"{prefix}{key}."))
        return out
    if isinstance(tree, list) and tree and all(isinstance(x, dict) for x in tree):
        out = {}
        for i, value in enumerate(tree):
            out.update(leaves(value, f"{prefix}{i}."))
        return out
    return {prefix[:-1]: tree}


def split_member(base: dict[str, Any], member: dict[str, Any], label: str = "") -> dict[str, Any]:
    """A member (API form) from two resolved spec dicts: the optimizer always, the other
    member fields where they differ from the base, and `overrides` for everything else."""
    out: dict[str, Any] = {"optimizer": copy.deepcopy(member["train"]["optimizer"])}
    if label:
        out["label"] = label
    for key in OVERRIDES:
        if member["train"][key] != base["train"][key]:
            out[key] = copy.deepcopy(member["train"][key])
    rest = [copy.deepcopy(base), copy.deepcopy(member)]
    for tree in rest:
        for key in MEMBER_TRAIN_KEYS:
            tree["train"].pop(key, None)
    extra = fragment(rest[0], rest[1])
    if extra:
        out["overrides"] = extra
    return out


@dataclass(frozen=True)
class Plan:
    spec: ComparisonSpec  # the base and the members' own fields (no overrides)
    overrides: list[dict[str, Any]]  # per member, {} = none
    specs: list[Spec]  # each member's full experiment
    labels: list[str]

    @property
    def independent(self) -> bool:
        # Batched members are dense nets: another family's members train one by one.
        return any(self.overrides) or self.specs[0].family != "mlp"

    def mode_reason(self) -> str:
        if not self.independent:
            return ""
        if not any(self.overrides):
            return f"{self.specs[0].family} members each train their own network"
        paths = sorted({p for ov in self.overrides for p in leaves(ov)})
        shown = ", ".join(paths[:3]) + (", ..." if len(paths) > 3 else "")
        reason = f"the members differ in {shown}: each trains its own network"
        dumps = [s.model_dump(mode="json") for s in self.specs]
        data = data_paths(dumps)
        if data:  # another T, dataset or split: the same seed draws other examples
            listed = ", ".join(data[:3]) + (", ..." if len(data) > 3 else "")
            reason += f" on its own data (another {listed}) from the same seed"
        if varying_paths(dumps, with_data=False):
            # Honest about what a different model cannot share (the engine measures it per
            # member: `initial_weights` in the start records and the summary rows).
            reason += (
                ("; " if data else " from the same seed, data and batch order; ")
                + "initial weights are shared only where the models' layers agree "
                "(independent initial weights otherwise)"
            )
        return reason

    def to_json(self) -> dict[str, Any]:
        """The normalised request (what a worker re-validates, what GET shows)."""
        members = []
        for m, ov in zip(self.spec.members, self.overrides, strict=True):
            item = m.model_dump(mode="json", exclude_unset=True)
            if ov:
                item["overrides"] = ov
            members.append(item)
        return {
            "base": self.spec.base.model_dump(mode="json"),
            "members": members,
            "target_loss": self.spec.target_loss,
            "target_fraction": self.spec.target_fraction,
        }

    def engine(self, make: Callable[[Spec], Any] | None = None) -> Any:
        """The engine object that trains this plan (imports torch). `make` builds a member's
        trainer (app.nn.families.registry.trainer_for for other families; the dense one by
        default)."""
        if self.independent:
            return IndependentComparison(
                self.spec, self.specs, self.labels, self.mode_reason(), make=make
            )
        return Comparison(self.spec)


def _labels(spec: ComparisonSpec, specs: list[Spec], overrides: list[dict[str, Any]]) -> list[str]:
    """The given label, else what varies among the members: the training settings (when
    they differ) and the model ("CNN 2 conv", "GRU", "no positions"), or the first
    overridden values (data, loss: "loss=mse")."""
    train = [spec.train_label(i) for i in range(len(spec.members))]
    arch = arch_labels(
        spec.base.model_dump(mode="json"), [s.model_dump(mode="json") for s in specs]
    )
    same_train = len(set(train)) == 1 and any(arch)
    out = []
    for m, t, a, ov in zip(spec.members, train, arch, overrides, strict=True):
        if not a and ov:
            a = " ".join(f"{p.rsplit('.', 1)[-1]}={v}" for p, v in list(leaves(ov).items())[:2])
        label = m.label or " ".join(filter(None, ("" if same_train else t, a)))
        out.append(label[:60])
    for i, label in enumerate(out):
        if out.count(label) > 1:
            out[i] = f"{label} #{out[:i].count(label) + 1}"
    return out


def _pop_overrides(data: Any) -> tuple[Any, list[dict[str, Any]], Errors]:
    if not isinstance(data, dict) or not isinstance(data.get("members"), list):
        return data, [], []
    members, overrides, errors = [], [], []
    for i, m in enumerate(data["members"]):
        ov: Any = {}
        if isinstance(m, dict) and "overrides" in m:
            m = dict(m)
            ov = m.pop("overrides") or {}
            if not isinstance(ov, dict):
                errors.append({"field": f"members.{i}.overrides", "message": "expected an object"})
                ov = {}
            train = ov.get("train")
            for key in MEMBER_TRAIN_KEYS:
                if isinstance(train, dict) and key in train:
                    errors.append(
                        {
                            "field": f"members.{i}.overrides.train.{key}",
                            "message": f"set it on the member itself (members.{i}.{key})",
                        }
                    )
        members.append(m)
        overrides.append(ov)
    return {**data, "members": members}, overrides, errors


def validate_plan(data: Any, limits: Limits | None = None) -> Plan:
    """Validate a comparison request; raises PlanInvalid with field-level errors."""
    if not isinstance(data, dict):
        raise PlanInvalid([{"field": "body", "message": "expected an object with base, members"}])
    clean, overrides, errors = _pop_overrides(data)
    if errors:
        raise PlanInvalid(errors)
    try:
        spec = validate_comparison(clean, limits)
    except ValidationError as exc:
        raise PlanInvalid(error_list(exc)) from None
    base = spec.base.model_dump(mode="json")
    specs = []
    for i, ov in enumerate(overrides):
        if not ov:
            specs.append(spec.member_spec(i))
            continue
        try:
            ov_same_family = resolve_family(base, ov)
        except FieldError as exc:
            errors.append({"field": f"members.{i}.{exc.field}", "message": exc.message})
            continue
        full = deep_merge(base, ov_same_family)
        if isinstance(full.get("train"), dict):
            full["train"].update(spec.members[i].train_overrides())
        try:
            specs.append(validate_spec(full, limits))
        except ValidationError as exc:
            errors += [{**e, "field": f"members.{i}.{e['field']}"} for e in error_list(exc)]
        except (TypeError, ValueError, RecursionError) as exc:
            errors.append({"field": f"members.{i}.overrides", "message": str(exc)})
    if errors:
        raise PlanInvalid(errors)
    return Plan(
        spec, [ov if ov else {} for ov in overrides], specs, _labels(spec, specs, overrides)
    )
