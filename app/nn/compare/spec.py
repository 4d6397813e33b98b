"""A comparison: one base experiment plus 2..8 members that override only what is compared.

Members may override the optimizer (name, lr, its params) and optionally the schedule, the
batch size and the regularisation fields l1 / l2 / weight_decay / grad_clip; everything else
(data, model, init, seed, epochs, loss, early stopping, input noise) comes from the base, so
all members start from the same weights and see the same batches in the same order.

A member's optimizer without a "name" inherits the base optimizer and overrides its fields
(`{"lr": 0.1}` is "the base optimizer at lr 0.1"); with a "name" it starts from that
optimizer's registry defaults. Errors name the member field, e.g. "members.2.optimizer.lr".
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from app.nn.choices.registry import FieldError
from app.nn.spec.base import Limits, _bounded, _limits, _Model, error_list
from app.nn.spec.experiment import Spec, fill_part
from app.nn.spec.train import GradClipSpec, OptimizerSpec, ScheduleSpec

MIN_MEMBERS, MAX_MEMBERS = 2, 8
# Bounds for re-building member specs already checked against the caller's limits.
_CHECKED = Limits(**{f.name: 0 if f.name.startswith("min_") else 10**12 for f in fields(Limits)})
# The train.* fields a member may override (the optimizer is always resolved per member).
OVERRIDES = ("schedule", "batch_size", "l1", "l2", "weight_decay", "grad_clip")


class MemberSpec(_Model):
    label: str | None = Field(None, max_length=40, description="legend name; default derived")
    optimizer: OptimizerSpec = Field(default_factory=OptimizerSpec)
    schedule: ScheduleSpec | None = Field(None, description="null = the base schedule")
    batch_size: int | None = Field(None, description="null = the base batch size")
    l1: float | None = Field(None, ge=0.0, le=10.0)
    l2: float | None = Field(None, ge=0.0, le=10.0)
    weight_decay: float | None = Field(None, ge=0.0, le=1.0)
    # Explicit null turns clipping off; an absent field keeps the base setting.
    grad_clip: GradClipSpec | None = None

    @field_validator("batch_size")
    @classmethod
    def _bs(cls, v: int | None, info: ValidationInfo) -> int | None:
        return None if v is None else int(_bounded(v, 1, _limits(info).max_batch_size))

    def train_overrides(self) -> dict[str, Any]:
        """The train.* values this member sets (the optimizer always)."""
        out: dict[str, Any] = {"optimizer": self.optimizer.model_dump(mode="json")}
        for key in OVERRIDES:
            value = getattr(self, key)
            if value is not None or (key == "grad_clip" and key in self.model_fields_set):
                out[key] = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
        return out


def _base_optimizer(base: Any) -> dict[str, Any]:
    if isinstance(base, Spec):
        return base.train.optimizer.model_dump(mode="json")
    if isinstance(base, dict):
        if isinstance(base.get("family", "mlp"), str):
            # The family's own training defaults first (Adam for a CNN, AdamW for
            # attention): a member without an optimizer trains what the base trains.
            base = fill_part(base)
        train = base.get("train")
        opt = train.get("optimizer") if isinstance(train, dict) else None
        if isinstance(opt, dict):
            return dict(opt)
        if isinstance(opt, OptimizerSpec):
            return opt.model_dump(mode="json")
    return {}


class ComparisonSpec(_Model):
    base: Spec = Field(default_factory=Spec, description="everything the members share")
    members: list[MemberSpec] = Field(description="2 to 8 members")
    target_loss: float | None = Field(
        None, gt=0.0, description="training loss counted as 'reached'; null = target_fraction"
    )
    target_fraction: float = Field(
        0.1, gt=0.0, lt=1.0, description="default target: this fraction of the initial loss"
    )

    @model_validator(mode="before")
    @classmethod
    def _inherit_optimizer(cls, data: Any) -> Any:
        """A member optimizer without a name starts from the base optimizer."""
        if not isinstance(data, dict) or not isinstance(data.get("members"), list):
            return data
        base_opt = _base_optimizer(data.get("base", {}))
        members = []
        for m in data["members"]:
            if isinstance(m, dict):
                opt = m.get("optimizer")
                if opt is None:
                    m = {**m, "optimizer": dict(base_opt)}
                elif isinstance(opt, dict) and "name" not in opt:
                    m = {**m, "optimizer": {**base_opt, **opt}}
            members.append(m)
        return {**data, "members": members}

    @field_validator("members")
    @classmethod
    def _count(cls, v: list[MemberSpec]) -> list[MemberSpec]:
        if not MIN_MEMBERS <= len(v) <= MAX_MEMBERS:
            raise ValueError(
                f"a comparison has {MIN_MEMBERS} to {MAX_MEMBERS} members (got {len(v)})"
            )
        return v

    @model_validator(mode="after")
    def _members_valid(self, info: ValidationInfo) -> ComparisonSpec:
        """Each member's full spec must validate too (e.g. the step limit at a small batch)."""
        for i in range(len(self.members)):
            try:
                self.member_spec(i, info.context)
            except ValidationError as exc:
                err = error_list(exc)[0]
                field = err["field"].removeprefix("train.")
                raise FieldError(f"members.{i}.{field}", err["message"]) from None
        return self

    def member_spec(self, i: int, context: Any = None) -> Spec:
        """The standalone experiment member i is equivalent to.

        Bounds were checked when this comparison was validated (with the caller's limits);
        without a context they are not checked again, so raised limits keep working."""
        data = self.base.model_dump(mode="json")
        data["train"].update(self.members[i].train_overrides())
        return Spec.model_validate(data, context=context or {"limits": _CHECKED})

    def member_specs(self) -> list[Spec]:
        return [self.member_spec(i) for i in range(len(self.members))]

    def labels(self) -> list[str]:
        """Legend names: the given label, else optimizer + lr + what else was overridden."""
        out = [m.label or self.train_label(i) for i, m in enumerate(self.members)]
        seen: dict[str, int] = {}
        for i, label in enumerate(out):
            seen[label] = seen.get(label, 0) + 1
            if out.count(label) > 1:
                out[i] = f"{label} #{seen[label]}"
        return out

    def train_label(self, i: int) -> str:
        """Member i's training settings in words: optimizer, lr and what else it sets."""
        m = self.members[i]
        parts = [m.optimizer.name, f"lr={m.optimizer.lr:g}"]
        if m.schedule is not None:
            parts.append(m.schedule.name)
        if m.batch_size is not None:
            parts.append(f"bs={m.batch_size}")
        parts += [f"{k}={getattr(m, k):g}" for k in ("l1", "l2", "weight_decay") if getattr(m, k)]
        if "grad_clip" in m.model_fields_set:
            parts.append(f"clip={m.grad_clip.max:g}" if m.grad_clip else "noclip")
        return " ".join(parts)


def validate_comparison(data: Any, limits: Limits | None = None) -> ComparisonSpec:
    """Validate a JSON-like comparison; raises pydantic.ValidationError (see spec.error_list)."""
    return ComparisonSpec.model_validate(data, context={"limits": limits or Limits()})
