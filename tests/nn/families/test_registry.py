"""Model families: the spec's family keys and the plug-in registry stay in step, and what
the run layer, the CLI and the web layer get from an entry is the family's own trainer and
exporter."""

from __future__ import annotations

from typing import get_args

import pytest

from app.nn.export.script import export_script
from app.nn.families.registry import FAMILIES, export_for, trainer_for
from app.nn.spec.experiment import FamilyKey, validate_spec
from app.nn.training.trainer import Trainer
from tests.nn.util import make_spec


def test_every_spec_family_has_a_plug_in_and_back() -> None:
    assert list(get_args(FamilyKey)) == FAMILIES.keys()
    for family in FAMILIES.values():
        assert family.trainer is not None and family.export is not None and family.views


def test_specs_default_to_the_mlp_family_and_refuse_unknown_ones() -> None:
    assert validate_spec({}).family == "mlp"
    with pytest.raises(ValueError, match="family"):
        validate_spec({"family": "capsule"})


def test_the_entry_gives_the_family_trainer_and_exporter() -> None:
    spec = make_spec(train={"epochs": 2})
    trainer = trainer_for(spec)
    assert isinstance(trainer, Trainer)
    assert list(trainer.records())[-1]["final"] == Trainer(spec).run()["final"]
    assert export_for(spec) == export_script(spec)
