"""Activations, normalisations and weight-init schemes: one registry each."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from app.nn.choices.registry import Entry, Registry

Tensor = torch.Tensor


@dataclass(frozen=True)
class ActivationInfo(Entry):
    make: Callable[[], nn.Module] | None = None
    gain: float = 1.0  # torch.nn.init.calculate_gain for this nonlinearity
    kaiming: str = "relu"  # nonlinearity name torch's kaiming init understands
    saturated: Callable[[Tensor], Tensor] | None = None  # bool mask of saturated outputs


def _tanh_sat(a: Tensor) -> Tensor:
    return a.abs() > 0.97


def _sigmoid_sat(a: Tensor) -> Tensor:
    return (a < 0.03) | (a > 0.97)


ACTIVATIONS: Registry[ActivationInfo] = Registry(
    "activation",
    [
        ActivationInfo(
            "relu", "ReLU", "max(0, x): cheap, sparse, can die.", make=nn.ReLU, gain=math.sqrt(2)
        ),
        ActivationInfo(
            "leaky_relu",
            "Leaky ReLU",
            "x for x>0, 0.01x otherwise: never dies.",
            make=nn.LeakyReLU,
            gain=math.sqrt(2 / (1 + 0.01**2)),
            kaiming="leaky_relu",
        ),
        ActivationInfo(
            "elu", "ELU", "Smooth, negative saturation at -1.", make=nn.ELU, gain=math.sqrt(2)
        ),
        ActivationInfo(
            "gelu", "GELU", "Smooth ReLU used by transformers.", make=nn.GELU, gain=math.sqrt(2)
        ),
        ActivationInfo("silu", "SiLU / Swish", "x·sigmoid(x).", make=nn.SiLU, gain=math.sqrt(2)),
        ActivationInfo(
            "softplus",
            "Softplus",
            "log(1+e^x), a smooth ReLU.",
            make=nn.Softplus,
            gain=math.sqrt(2),
        ),
        ActivationInfo(
            "tanh",
            "Tanh",
            "Zero-centred, saturates at ±1.",
            make=nn.Tanh,
            gain=5 / 3,
            kaiming="tanh",
            saturated=_tanh_sat,
        ),
        ActivationInfo(
            "sigmoid",
            "Sigmoid",
            "Outputs in (0, 1): not zero-centred, saturates.",
            make=nn.Sigmoid,
            gain=1.0,
            kaiming="sigmoid",
            saturated=_sigmoid_sat,
        ),
        ActivationInfo(
            "linear",
            "Linear",
            "Identity: stacked layers stay one linear map.",
            make=nn.Identity,
            gain=1.0,
            kaiming="linear",
        ),
    ],
)


@dataclass(frozen=True)
class NormInfo(Entry):
    make: Callable[[int], nn.Module] | None = None


NORMS: Registry[NormInfo] = Registry(
    "norm",
    [
        NormInfo("none", "None", "No normalisation.", make=lambda n: nn.Identity()),
        NormInfo(
            "batch",
            "BatchNorm",
            "Normalise each unit over the batch.",
            make=lambda n: nn.BatchNorm1d(n),
        ),
        NormInfo(
            "layer",
            "LayerNorm",
            "Normalise each sample over the layer's units.",
            make=lambda n: nn.LayerNorm(n),
        ),
    ],
)


@dataclass(frozen=True)
class InitInfo(Entry):
    # fill(weight, gain, kaiming_nonlinearity, scale, generator) in place
    fill: Callable[[Tensor, float, str, float, torch.Generator], object] | None = None
    scale_name: str = ""  # what init_scale means for this scheme ("" = unused)
    default_scale: float = 0.0


def _kaiming_std(w: Tensor, nonlinearity: str) -> float:
    fan_in = w.shape[1]
    return nn.init.calculate_gain(nonlinearity, 0.01) / math.sqrt(fan_in)  # type: ignore[arg-type]


def _xavier_bound(w: Tensor, gain: float) -> float:
    fan_out, fan_in = w.shape
    return gain * math.sqrt(6.0 / (fan_in + fan_out))


# Every scheme draws from the explicit generator, so init is independent of other RNG use.
INITS: Registry[InitInfo] = Registry(
    "init",
    [
        InitInfo(
            "zeros",
            "Zeros",
            "All weights 0: every unit of a layer stays identical.",
            fill=lambda w, g, k, s, gen: w.zero_(),
        ),
        InitInfo(
            "constant",
            "Constant",
            "All weights equal init_scale: still symmetric.",
            fill=lambda w, g, k, s, gen: w.fill_(s),
            scale_name="value",
            default_scale=0.1,
        ),
        InitInfo(
            "normal",
            "Normal",
            "N(0, init_scale²) regardless of layer width.",
            fill=lambda w, g, k, s, gen: w.normal_(0, s, generator=gen),
            scale_name="std",
            default_scale=1.0,
        ),
        InitInfo(
            "uniform",
            "Uniform",
            "U(-init_scale, init_scale).",
            fill=lambda w, g, k, s, gen: w.uniform_(-s, s, generator=gen),
            scale_name="a",
            default_scale=1.0,
        ),
        InitInfo(
            "xavier_uniform",
            "Xavier (Glorot) uniform",
            "Variance 2/(fan_in+fan_out) × gain²: keeps tanh activations O(1).",
            fill=lambda w, g, k, s, gen: w.uniform_(
                -_xavier_bound(w, g), _xavier_bound(w, g), generator=gen
            ),
        ),
        InitInfo(
            "xavier_normal",
            "Xavier (Glorot) normal",
            "Normal with variance 2/(fan_in+fan_out) × gain².",
            fill=lambda w, g, k, s, gen: w.normal_(
                0, _xavier_bound(w, g) / math.sqrt(3), generator=gen
            ),
        ),
        InitInfo(
            "kaiming_uniform",
            "Kaiming (He) uniform",
            "Variance gain²/fan_in: keeps ReLU activations O(1).",
            fill=lambda w, g, k, s, gen: w.uniform_(
                -_kaiming_std(w, k) * math.sqrt(3), _kaiming_std(w, k) * math.sqrt(3), generator=gen
            ),
        ),
        InitInfo(
            "kaiming_normal",
            "Kaiming (He) normal",
            "Normal with variance gain²/fan_in.",
            fill=lambda w, g, k, s, gen: w.normal_(0, _kaiming_std(w, k), generator=gen),
        ),
        InitInfo(
            "orthogonal",
            "Orthogonal",
            "A random orthogonal matrix × gain.",
            fill=lambda w, g, k, s, gen: nn.init.orthogonal_(w, gain=g, generator=gen),
        ),
        InitInfo(
            "lecun_normal",
            "LeCun normal",
            "Normal with variance 1/fan_in (SELU's init).",
            fill=lambda w, g, k, s, gen: w.normal_(0, 1 / math.sqrt(w.shape[1]), generator=gen),
        ),
        InitInfo(
            "default",
            "PyTorch default",
            "nn.Linear's own: U(±1/sqrt(fan_in)) for weights and biases.",
            fill=lambda w, g, k, s, gen: w.uniform_(
                -1 / math.sqrt(w.shape[1]), 1 / math.sqrt(w.shape[1]), generator=gen
            ),
        ),
    ],
)
