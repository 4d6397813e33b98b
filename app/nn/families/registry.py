"""The model families, one registry: a new family is its own module here plus one line."""

from __future__ import annotations

from app.nn.choices.registry import Registry
from app.nn.families.base import Family, FamilyTrainer
from app.nn.families.cnn import CNN
from app.nn.families.mlp import MLP
from app.nn.families.rnn import RNN
from app.nn.families.transformer import TRANSFORMER
from app.nn.spec.experiment import Spec

FAMILIES: Registry[Family] = Registry("model family", [MLP, RNN, TRANSFORMER, CNN])


def trainer_for(spec: Spec) -> FamilyTrainer:
    """The trainer of the spec's family (validated specs name a registered one)."""
    make = FAMILIES[spec.family].trainer
    assert make is not None, spec.family
    return make(spec)


def export_for(spec: Spec) -> str:
    export = FAMILIES[spec.family].export
    if export is None:
        raise ValueError(f"{FAMILIES[spec.family].label} runs cannot be exported yet")
    return export(spec)
