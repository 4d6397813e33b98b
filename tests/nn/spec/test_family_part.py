"""The hook a model family's spec part plugs into (app/nn/spec/family_part.py): filled when
omitted, refused when it names another family, asked for the task, sizes and checks."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import Field, ValidationError

from app.nn.choices.registry import FieldError
from app.nn.spec.base import Limits, error_list
from app.nn.spec.experiment import Spec
from app.nn.spec.family_part import FamilyPart


class TinyPart(FamilyPart):
    size: int = Field(3, ge=1, le=9)
    examples: int = 100

    def task(self) -> str:
        return "regression"

    def n_examples(self) -> int:
        return self.examples

    def check(self, spec: Spec, limits: Limits) -> None:
        if self.size > len(spec.model.layers) + 5:
            raise FieldError("tiny.size", f"size {self.size} is more than layers + 5")


class TinySpec(Spec):
    family: Literal["mlp", "tiny"] = "mlp"  # type: ignore[assignment]
    tiny: TinyPart | None = None


def validate(data: dict[str, Any]) -> TinySpec:
    return TinySpec.model_validate(data, context={"limits": Limits()})


def test_a_family_gets_its_parts_defaults_and_the_parts_task_and_sizes() -> None:
    spec = validate({"family": "tiny", "data": {"train_fraction": 0.6, "val_fraction": 0.2}})
    assert spec.part == TinyPart() and spec.task == "regression"
    assert spec.sizes() == (60, 20, 20)
    assert spec.steps_per_epoch() == 6  # batch 10 over 60 training examples
    assert validate({}).part is None and validate({}).task == "binary"


def test_a_part_for_another_family_and_a_failed_check_name_their_field() -> None:
    with pytest.raises(ValidationError) as err:
        validate({"family": "mlp", "tiny": {"size": 2}})
    assert error_list(err.value)[0]["field"] == "tiny"
    with pytest.raises(ValidationError) as err:
        validate({"family": "tiny", "tiny": {"size": 8}, "model": {"layers": []}})
    assert error_list(err.value) == [
        {"field": "tiny.size", "message": "size 8 is more than layers + 5"}
    ]
    with pytest.raises(ValidationError, match="does not apply to regression"):
        validate({"family": "tiny", "train": {"loss": "ce"}})
