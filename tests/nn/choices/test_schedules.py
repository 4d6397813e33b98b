"""Learning-rate schedules: each curve against torch's own scheduler where one exists, and
the lr the trainer actually used, read back from its step records."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import pytest
import torch

from app.nn.choices.schedules import SCHEDULES, Plateau, Schedule
from tests.nn.util import make_spec, of_kind, run

SPE, TOTAL = 6, 60  # steps per epoch, total steps (10 epochs)


def curve(name: str, **params: Any) -> list[float]:
    resolved = SCHEDULES[name].resolve_params(params)
    sched = Schedule(name, resolved, SPE, TOTAL)
    return [sched.factor(step) for step in range(TOTAL)]


def torch_curve(make: Any, per_epoch: bool) -> list[float]:
    """Factors from a torch scheduler stepped per batch or per epoch, base lr 1."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = make(opt)
    out = []
    for step in range(TOTAL):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        if not per_epoch or (step + 1) % SPE == 0:
            sched.step()
    return out


def test_every_schedule_is_covered() -> None:
    covered = {"constant", "step", "exponential", "cosine", "warmup_cosine", "one_cycle"}
    assert set(SCHEDULES) == covered | {"reduce_on_plateau"}


def test_constant() -> None:
    assert curve("constant") == [1.0] * TOTAL


def test_step_halves_at_the_right_epoch() -> None:
    factors = curve("step", step_epochs=3, gamma=0.5)
    epochs = [factors[e * SPE : (e + 1) * SPE] for e in range(10)]
    assert all(len(set(e)) == 1 for e in epochs)  # constant within an epoch
    assert [e[0] for e in epochs] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]
    oracle = torch_curve(lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5), per_epoch=True)
    assert factors == pytest.approx(oracle, rel=1e-12)


def test_exponential_matches_torch() -> None:
    oracle = torch_curve(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.8), True)
    assert curve("exponential", gamma=0.8) == pytest.approx(oracle, rel=1e-9)


def test_cosine_goes_from_base_to_min_like_torch() -> None:
    factors = curve("cosine", min_factor=0.1)
    assert factors[0] == 1.0 and factors[-1] == pytest.approx(0.1)
    assert all(a >= b for a, b in pairwise(factors))
    oracle = torch_curve(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, TOTAL - 1, eta_min=0.1), False
    )
    assert factors == pytest.approx(oracle, rel=1e-6)


def test_warmup_ramps_then_decays() -> None:
    factors = curve("warmup_cosine", warmup_epochs=2, min_factor=0.0)
    warm = 2 * SPE
    ramp = factors[:warm]
    assert ramp == pytest.approx([(s + 1) / warm for s in range(warm)])  # linear, ends at 1
    assert factors[warm] == pytest.approx(1.0)
    tail = factors[warm:]
    assert all(a >= b for a, b in pairwise(tail))
    assert factors[-1] == pytest.approx(0.0, abs=1e-12)


def test_one_cycle_peaks_at_pct_start_like_torch() -> None:
    pct, div, final = 0.3, 20.0, 100.0
    factors = curve("one_cycle", pct_start=pct, div_factor=div, final_div_factor=final)
    peak = max(range(TOTAL), key=lambda s: factors[s])
    assert peak == round(pct * TOTAL - 1) and factors[peak] == pytest.approx(1.0)
    assert factors[0] == pytest.approx(1 / div)
    assert factors[-1] == pytest.approx(1 / (div * final))
    oracle = torch_curve(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o, max_lr=1.0, total_steps=TOTAL, pct_start=pct, div_factor=div,
            final_div_factor=final, cycle_momentum=False,
        ),
        False,
    )  # fmt: skip
    assert factors == pytest.approx(oracle, rel=1e-6)


def test_reduce_on_plateau_matches_torch() -> None:
    metrics = [1.0, 0.9, 0.9, 0.95, 0.91, 0.8, 0.8, 0.8, 0.8, 0.79999, 0.7, 0.7, 0.7, 0.7]
    plateau = Plateau(factor=0.5, patience=2, min_factor=1e-3)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    oracle = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, min_lr=1e-3)
    for m in metrics:
        plateau.epoch_end(m)
        oracle.step(m)
        assert plateau.multiplier == pytest.approx(opt.param_groups[0]["lr"])
    assert plateau.multiplier < 1  # the sequence did reduce


def test_reduce_on_plateau_in_training_reduces_after_patience() -> None:
    """With the smallest lr the loss cannot improve by the 1e-4 relative threshold, so
    the lr halves once `patience` epochs have passed without improvement."""
    spec = make_spec(
        train={
            "optimizer": {"lr": 1e-6},
            "epochs": 6,
            "schedule": {"name": "reduce_on_plateau", "factor": 0.5, "patience": 1},
        }
    )
    per_epoch = [s["lr"] for s in of_kind(run(spec), "step")][::6]
    # epoch 1 sets the best; epochs 2-3 do not improve -> halved from epoch 4 on, and so on
    assert per_epoch == pytest.approx([1e-6, 1e-6, 1e-6, 5e-7, 5e-7, 2.5e-7])


@pytest.mark.parametrize(
    "schedule",
    [
        {"name": "step", "step_epochs": 2, "gamma": 0.1},
        {"name": "warmup_cosine", "warmup_epochs": 1, "min_factor": 0.05},
        {"name": "one_cycle"},
    ],
    ids=lambda s: s["name"],
)
def test_the_trainer_uses_the_schedule(schedule: dict[str, Any]) -> None:
    spec = make_spec(train={"epochs": 10, "optimizer": {"lr": 0.2}, "schedule": schedule})
    used = [s["lr"] for s in of_kind(run(spec), "step")]
    expected = curve(schedule["name"], **spec.train.schedule.params())
    assert used == pytest.approx([0.2 * f for f in expected], rel=1e-12)
    assert len(set(used)) > 1 and all(math.isfinite(v) and v > 0 for v in used)
