"""The convolutional family's spec part: which images, the conv layers, augmentation.

`spec.cnn` says what the network sees (an image dataset of app/nn/data/images.py) and its
convolutional layers; the dense head after them is `spec.model.layers` (empty: the flattened
feature maps feed the output layer), initialised by `spec.model.init`. Splits come from
`spec.data.train_fraction` / `val_fraction`, training from `spec.train`, as for the MLP.
Shapes are checked here: a kernel larger than its (padded) input, or a pool of a 1x1 map,
is an error naming the layer's field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from app.nn.choices.layers import ACTIVATIONS
from app.nn.choices.registry import FieldError
from app.nn.data.images import IMAGE_DATASETS, SHAPE_SIZES
from app.nn.data.shapes import MAX_CLASSES, MIN_CLASSES
from app.nn.spec.base import Limits, _bounded, _limits, _Model
from app.nn.spec.family_part import FamilyPart, check_skips

if TYPE_CHECKING:
    from app.nn.spec.experiment import Spec

POOLS = ("none", "max", "avg", "global_max", "global_avg")  # 2x2 stride 2, or the whole map


class ConvLayerSpec(_Model):
    channels: int = Field(8, description="output channels (filters) of this layer")
    kernel: int = Field(3, description="kernel side (square)")
    stride: int = Field(1, ge=1, le=3, description="step of the kernel")
    padding: int = Field(1, ge=0, le=2, description="zeros added around the input")
    pool: Literal["none", "max", "avg", "global_max", "global_avg"] = Field(
        "max", description="2x2 pooling after it, or global: one number per channel"
    )
    activation: str = Field("relu", description="nonlinearity after the conv (and norm)")
    batchnorm: bool = Field(False, description="BatchNorm2d between conv and activation")
    dropout: float = Field(0.0, ge=0.0, le=0.9, description="drop probability after pooling")

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 1, _limits(info).max_channels))

    @field_validator("kernel")
    @classmethod
    def _kernel(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 1, _limits(info).max_kernel))

    @field_validator("activation")
    @classmethod
    def _act(cls, v: str) -> str:
        return ACTIVATIONS.valid(v)


class AugmentSpec(_Model):
    """Random changes to each training batch (never to validation or test images)."""

    shift: int = Field(0, ge=0, le=3, description="random shifts of up to this many pixels")
    rotate: float = Field(0.0, ge=0.0, le=30.0, description="random rotations, ± degrees")
    noise: float = Field(0.0, ge=0.0, le=1.0, description="std of Gaussian pixel noise")

    def active(self) -> bool:
        return bool(self.shift or self.rotate or self.noise)


def _default_conv() -> list[ConvLayerSpec]:
    return [ConvLayerSpec(channels=8), ConvLayerSpec(channels=16)]


class CnnPart(FamilyPart):
    data_fields: ClassVar[tuple[str, ...]] = ("dataset", "size", "classes", "samples", "noise")
    dataset: str = Field("digits", description="image dataset")
    size: int = Field(12, description="image side of generated shapes (12 or 16)")
    classes: int = Field(4, ge=MIN_CLASSES, le=10, description="shape classes (2-5); digits: 10")
    samples: int = Field(1000, description="generated shapes in all splits")
    noise: float = Field(0.1, ge=0.0, le=1.0, description="pixel noise std of generated shapes")
    conv: list[ConvLayerSpec] = Field(default_factory=_default_conv, description="conv layers")
    augment: AugmentSpec = Field(default_factory=AugmentSpec)

    # A small CNN needs no dense layers before its output; Adam trains it in a few epochs.
    bare_head: ClassVar[bool] = True  # Spec: no dense head layers unless asked (one Linear)
    train_defaults: ClassVar[dict[str, Any]] = {
        "optimizer": {"name": "adam", "lr": 0.01},
        "batch_size": 32,
        "epochs": 30,
    }

    @field_validator("dataset")
    @classmethod
    def _dataset(cls, v: str) -> str:
        return IMAGE_DATASETS.valid(v)

    @field_validator("samples")
    @classmethod
    def _samples(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 20, _limits(info).max_samples))

    @field_validator("conv")
    @classmethod
    def _conv(cls, v: list[ConvLayerSpec], info: ValidationInfo) -> list[ConvLayerSpec]:
        limit = _limits(info).max_conv_layers
        if len(v) > limit:
            raise ValueError(f"at most {limit} conv layers (got {len(v)})")
        return v

    @model_validator(mode="after")
    def _fixed(self) -> CnnPart:
        """A dataset with a fixed side, class count or size sets them (digits: 8, 10, 1797)."""
        entry = IMAGE_DATASETS[self.dataset]
        if entry.size:
            self.size = entry.size
        elif self.size not in SHAPE_SIZES:
            raise FieldError("size", f"shapes are {' or '.join(map(str, SHAPE_SIZES))} pixels")
        if entry.classes:
            self.classes = entry.classes
        elif self.classes > MAX_CLASSES:
            raise FieldError("classes", f"shapes have {MIN_CLASSES} to {MAX_CLASSES} classes")
        if entry.samples:
            self.samples = entry.samples
        return self

    def task(self) -> str:
        return "multiclass"

    def n_examples(self) -> int:
        return self.samples

    def feature_shapes(self) -> list[tuple[int, int, int]]:
        """(channels, height, width) after each conv layer (pooling included); raises
        FieldError naming the first layer whose kernel or pool does not fit its input."""
        channels, side = 1, self.size
        shapes = []
        for i, layer in enumerate(self.conv):
            padded = side + 2 * layer.padding
            if layer.kernel > padded:
                raise FieldError(
                    f"cnn.conv.{i}.kernel",
                    f"conv layer {i + 1}: a {layer.kernel}x{layer.kernel} kernel is larger than "
                    f"its {side}x{side} input (with padding {layer.padding}: {padded}x{padded})",
                )
            side = (padded - layer.kernel) // layer.stride + 1
            if layer.pool.startswith("global"):
                side = 1  # where a feature is no longer matters: translation invariance
            elif layer.pool != "none":
                if side < 2:
                    raise FieldError(
                        f"cnn.conv.{i}.pool",
                        f"conv layer {i + 1}: its output is {side}x{side}, too small to pool 2x2",
                    )
                side //= 2
            channels = layer.channels
            shapes.append((channels, side, side))
        return shapes

    def flat_width(self) -> int:
        """Inputs of the dense head: the last feature maps flattened (or the image)."""
        shapes = self.feature_shapes()
        c, h, w = shapes[-1] if shapes else (1, self.size, self.size)
        return c * h * w

    def check(self, spec: Spec, limits: Limits) -> None:
        check_skips(spec.model.layers, self.flat_width())
