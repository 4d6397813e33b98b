"""The experiment spec: the one validated input of the system.

Pure data (pydantic, no torch): the engine, the run service, the web layer and the CLI all
take this model. Bounds come from `Limits`, passed as validation context (the app builds
them from settings); without a context the defaults below apply. Every error names its
field and the allowed values or range.
"""

from __future__ import annotations

import math
from typing import Any, Literal, get_args

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from app.nn.choices.layers import ACTIVATIONS, INITS, NORMS
from app.nn.choices.losses import LOSSES, resolve_loss
from app.nn.choices.registry import FieldError
from app.nn.data.points import CUSTOM, DATASETS, FEATURES, infer_task, split_sizes
from app.nn.spec.base import (  # the spec's building blocks; importers may name them here
    Limits,
    _bounded,
    _limits,
    _Model,
)
from app.nn.spec.cnn import CnnPart
from app.nn.spec.family_part import FamilyPart, check_skips
from app.nn.spec.rnn import RnnPart
from app.nn.spec.train import StreamSpec, TrainSpec  # the parts every family shares
from app.nn.spec.transformer import TransformerPart


class LayerSpec(_Model):
    units: int = Field(8, description="neurons in this hidden layer")
    activation: str = Field("tanh", description="nonlinearity after the layer")
    norm: str = Field("none", description="none | batch | layer, before the activation")
    dropout: float = Field(0.0, ge=0.0, le=0.95, description="drop probability (inverted)")
    residual: bool = Field(False, description="add the layer's input to its output")

    @field_validator("units")
    @classmethod
    def _units(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 1, _limits(info).max_units))

    @field_validator("activation")
    @classmethod
    def _act(cls, v: str) -> str:
        return ACTIVATIONS.valid(v)

    @field_validator("norm")
    @classmethod
    def _norm(cls, v: str) -> str:
        return NORMS.valid(v)


ONE_D_FEATURES = ("x1", "x1sq", "sin_x1", "cos_x1")  # the features of x1 alone


class DataSpec(_Model):
    dataset: str = Field("circle", description="which toy dataset")
    samples: int = Field(500, description="points generated (all splits)")
    noise: float = Field(0.0, ge=0.0, le=1.0, description="label/position noise, 0..1")
    train_fraction: float = Field(0.5, gt=0.0, le=1.0, description="share used for training")
    val_fraction: float = Field(0.0, ge=0.0, lt=1.0, description="share held out for validation")
    features: list[str] = Field(default_factory=lambda: ["x1", "x2"], description="inputs")
    points: list[list[float]] | None = Field(
        None, description="[x1, x2, label] rows of the custom dataset (replace samples and noise)"
    )

    @field_validator("dataset")
    @classmethod
    def _dataset(cls, v: str) -> str:
        return DATASETS.valid(v)

    @field_validator("samples")
    @classmethod
    def _samples(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 10, _limits(info).max_samples))

    @field_validator("features")
    @classmethod
    def _features(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError(f"pick at least one input feature; allowed: {', '.join(FEATURES)}")
        for f in v:
            if f not in FEATURES:
                raise ValueError(FEATURES.unknown_message(f))
        if len(set(v)) != len(v):
            raise ValueError("each feature may appear once")
        return v

    @field_validator("points")
    @classmethod
    def _points(cls, v: list[list[float]] | None, info: ValidationInfo) -> list[list[float]] | None:
        if v is None:
            return v
        limit = _limits(info).max_samples
        if not 10 <= len(v) <= limit:
            raise ValueError(f"expected 10 to {limit} points, got {len(v)}")
        for i, row in enumerate(v):
            if len(row) != 3 or not all(math.isfinite(x) for x in row):
                raise ValueError(f"point {i} must be 3 finite numbers [x1, x2, label], got {row}")
        return v

    @model_validator(mode="after")
    def _custom(self) -> DataSpec:
        if (self.dataset == CUSTOM) != (self.points is not None):
            raise FieldError(
                "points",
                f"the {CUSTOM!r} dataset needs points (upload a CSV or draw them)"
                if self.points is None
                else f"points need dataset {CUSTOM!r} (got {self.dataset!r})",
            )
        if self.points is not None:
            self.samples = len(self.points)  # the split sizes follow the points
        return self

    @model_validator(mode="after")
    def _one_d(self) -> DataSpec:
        """A 1-D dataset has no x2 (it is always 0): features of x2 are constants, so they
        are dropped (the sine showed an x2 input that could never matter)."""
        if DATASETS[self.dataset].dims == 1:
            kept = [f for f in self.features if f in ONE_D_FEATURES]
            if not kept:
                raise FieldError(
                    "features", "a 1-D dataset has only x1: pick x1, sin x1 or x1² features"
                )
            self.features = kept
        return self

    def task(self) -> str:
        if self.points is not None:
            return infer_task([row[2] for row in self.points])[0]
        return DATASETS[self.dataset].task

    @model_validator(mode="after")
    def _fractions(self) -> DataSpec:
        if self.train_fraction + self.val_fraction > 1.0 + 1e-9:
            raise FieldError(
                "val_fraction",
                f"train_fraction + val_fraction must be <= 1 "
                f"(got {self.train_fraction} + {self.val_fraction})",
            )
        return self

    def sizes(self) -> tuple[int, int, int]:
        return split_sizes(self.samples, self.train_fraction, self.val_fraction)


def _default_layers() -> list[LayerSpec]:
    return [LayerSpec(units=4), LayerSpec(units=2)]


class ModelSpec(_Model):
    layers: list[LayerSpec] = Field(default_factory=_default_layers, description="hidden layers")
    init: str = Field("xavier_uniform", description="weight-init scheme")
    init_scale: float | None = Field(
        None, ge=0.0, le=100.0, description="std / bound / value for normal, uniform, constant"
    )
    bias_init: float | None = Field(
        None,
        ge=-10.0,
        le=10.0,
        description="initial bias value; null = the scheme's (0, or "
        "torch's uniform for the default scheme)",
    )

    @field_validator("layers")
    @classmethod
    def _layers(cls, v: list[LayerSpec], info: ValidationInfo) -> list[LayerSpec]:
        limit = _limits(info).max_layers
        if len(v) > limit:
            raise ValueError(f"at most {limit} hidden layers (got {len(v)})")
        return v

    @field_validator("init")
    @classmethod
    def _init(cls, v: str) -> str:
        return INITS.valid(v)

    @model_validator(mode="after")
    def _scale(self) -> ModelSpec:
        info = INITS[self.init]
        if self.init_scale is None and info.scale_name:
            self.init_scale = info.default_scale
        return self


# The model families this spec can describe (app.nn.families.registry.FAMILIES holds their
# plug-ins; a test keeps the two in step). A new family adds its key here and one optional
# field to Spec named after the key, typed by its FamilyPart (app/nn/spec/family_part.py).
FamilyKey = Literal["mlp", "rnn", "transformer", "cnn"]


class Spec(_Model):
    family: FamilyKey = Field("mlp", description="the model family (mlp: dense nets on 2-D points)")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seeds data, init, order, dropout")
    data: DataSpec = Field(default_factory=DataSpec)
    model: ModelSpec = Field(default_factory=ModelSpec)
    train: TrainSpec = Field(default_factory=TrainSpec)
    stream: StreamSpec = Field(default_factory=StreamSpec)
    # A family's part (FamilyPart) goes here, e.g. `cnn: CnnPart | None = None`.
    rnn: RnnPart | None = None
    transformer: TransformerPart | None = None
    cnn: CnnPart | None = None

    @model_validator(mode="before")
    @classmethod
    def _fill_part(cls, data: Any) -> Any:
        return fill_part(data, cls)

    @model_serializer(mode="wrap")
    def _without_absent_parts(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Other families' parts are None: leave them out (an MLP spec dumps as before)."""
        data: dict[str, Any] = handler(self)
        for name, field in type(self).model_fields.items():
            if getattr(self, name) is None and _is_part(field.annotation):
                data.pop(name, None)
        return data

    @property
    def part(self) -> FamilyPart | None:
        """The family's own part (None for the MLP, whose data and model are the points')."""
        part = getattr(self, self.family, None)
        return part if isinstance(part, FamilyPart) else None

    @model_validator(mode="after")
    def _one_part(self) -> Spec:
        for name, field in type(self).model_fields.items():
            if name != self.family and _is_part(field.annotation) and getattr(self, name):
                raise FieldError(name, f"a {self.family} spec has no {name} part (family={name}?)")
        return self

    @model_validator(mode="after")
    def _cross(self, info: ValidationInfo) -> Spec:
        task, limits = self.task, _limits(info)
        if self.train.until_paused:  # as many epochs as the caps allow
            self.train.epochs = max(
                1, min(limits.max_epochs, limits.max_steps // self.steps_per_epoch())
            )
        if task not in LOSSES[self.train.loss].tasks:
            allowed = [k for k in LOSSES if task in LOSSES[k].tasks]
            where = f" ({self.data.dataset})" if self.part is None else ""
            raise FieldError(
                "train.loss",
                f"{self.train.loss!r} does not apply to {task} data{where}; "
                f"allowed: {', '.join(allowed)}",
            )
        if self.part is not None:
            self.part.check(self, limits)
        else:
            check_skips(self.model.layers, len(self.data.features))
        if self.train.early_stopping is not None and self.sizes()[1] == 0:
            raise FieldError(
                "train.early_stopping", "needs a validation split: set data.val_fraction > 0"
            )
        if self.total_steps() > limits.max_steps:
            raise FieldError(
                "train.epochs",
                f"{self.train.epochs} epochs x {self.steps_per_epoch()} steps = "
                f"{self.total_steps()} steps; the limit is {limits.max_steps}",
            )
        return self

    # Derived facts every consumer needs.
    @property
    def task(self) -> str:
        return self.part.task() if self.part is not None else self.data.task()

    @property
    def loss_name(self) -> str:
        return resolve_loss(self.train.loss, self.task)

    def sizes(self) -> tuple[int, int, int]:
        """(train, validation, test) examples: a family part's dataset split by spec.data's
        fractions, or the points' own."""
        if self.part is None:
            return self.data.sizes()
        return split_sizes(self.part.n_examples(), self.data.train_fraction, self.data.val_fraction)

    def effective_batch_size(self) -> int:
        return min(self.train.batch_size, self.sizes()[0])

    def steps_per_epoch(self) -> int:
        n_train = self.sizes()[0]
        return -(-n_train // self.effective_batch_size())

    def total_steps(self) -> int:
        return self.train.epochs * self.steps_per_epoch()


def fill_part(data: Any, cls: type[Spec] | None = None) -> Any:
    """A family other than the MLP gets its part's defaults when the spec omits it (and
    its training defaults: what a comparison's members inherit reads them too). `cls`:
    the Spec (sub)class whose parts count."""
    cls = cls or Spec
    if isinstance(data, dict):
        family = data.get("family", "mlp")
        known = isinstance(family, str) and family in cls.model_fields
        if known and family != "mlp" and data.get(family) is None:
            data = {**data, family: {}}
        model = data.get("model") or {}
        part = _part_class(cls.model_fields[family].annotation) if known else None
        if getattr(part, "bare_head", False) and isinstance(model, dict):
            # Its output is one Linear unless the spec names head layers.
            data = {**data, "model": {"layers": [], **model}}
        if part is not None and part.train_defaults and isinstance(data.get("train", {}), dict):
            data = _train_defaults(data, part.train_defaults)
    return data


def _train_defaults(data: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """A family part's `train_defaults` under what the spec's own `train` says (an
    optimizer given without a name keeps the family's, with the given lr or params)."""
    train = dict(data.get("train") or {})
    for key, value in defaults.items():
        given = train.get(key)
        if given is None:
            train[key] = value
        elif isinstance(value, dict) and isinstance(given, dict) and "name" not in given:
            train[key] = {**value, **given}
    return {**data, "train": train}


def _is_part(annotation: Any) -> bool:
    return _part_class(annotation) is not None


def _part_class(annotation: Any) -> type[FamilyPart] | None:
    parts = [a for a in get_args(annotation) if isinstance(a, type) and issubclass(a, FamilyPart)]
    return parts[0] if parts else None


def validate_spec(data: Any, limits: Limits | None = None) -> Spec:
    """Validate a JSON-like spec; raises pydantic.ValidationError."""
    return Spec.model_validate(
        data if data is not None else {}, context={"limits": limits or Limits()}
    )
