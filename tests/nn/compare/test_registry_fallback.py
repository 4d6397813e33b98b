"""A loss or optimizer added only to its registry (no stacked form on the entry) still works
in a comparison: the members train one by one, each equal to the same spec trained alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
import torch.nn.functional as F

from app.nn.choices.losses import LOSSES, LossInfo
from app.nn.choices.optimizers import OPTIMIZERS, OptimizerInfo
from app.nn.compare.lockstep import Comparison
from tests.nn.compare.test_lockstep import check_members, comparison


def _soft_margin(out: torch.Tensor, y: torch.Tensor, smoothing: float, delta: float):
    return F.soft_margin_loss(out[:, 0], 2 * y - 1)


@pytest.fixture
def plain_loss() -> Iterator[str]:
    LOSSES.add(
        LossInfo("soft_margin", "Soft margin", tasks=("binary",), classification=_soft_margin)
    )
    yield "soft_margin"
    LOSSES.remove("soft_margin")


@pytest.fixture
def plain_optimizer() -> Iterator[str]:
    entry = OptimizerInfo(
        "sgd_plain",
        "SGD without a stacked rule",
        build=lambda g, lr, p, wd, f: torch.optim.SGD(g, lr=lr),
    )
    OPTIMIZERS.add(entry)
    yield "sgd_plain"
    OPTIMIZERS.remove("sgd_plain")


def test_a_loss_without_a_stacked_form_trains_members_one_by_one(plain_loss: str) -> None:
    members = [{"optimizer": {"name": "sgd"}}, {"optimizer": {"name": "adam"}}]
    spec = comparison(members, data={"dataset": "circle"}, train={"loss": plain_loss, "epochs": 4})
    comp, _ = check_members(spec)  # each member equals its lone run, same seeds
    assert comp.mode == "sequential" and "Soft margin" in comp.mode_reason


def test_an_optimizer_without_a_stacked_rule_trains_members_one_by_one(
    plain_optimizer: str,
) -> None:
    members = [{"optimizer": {"name": plain_optimizer}}, {"optimizer": {"name": "sgd"}}]
    spec = comparison(members, train={"epochs": 3})
    comp, _ = check_members(spec)
    assert comp.mode == "sequential" and "without a stacked rule" in comp.mode_reason
    with pytest.raises(ValueError, match="no stacked update"):
        Comparison(spec, mode="batched")
