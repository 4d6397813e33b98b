"""A fast seeded sample of the recurrent lessons for the default suite (their full claims
train for minutes and are marked slow): the same specs, shorter or at init."""

from __future__ import annotations

import pytest

from app.lessons.claims.runner import lesson_specs
from app.lessons.claims.sequences.through_time import first_to_last
from app.nn.training.sequences import SeqTrainer

SEEDS = [1003, 1011]  # untuned


@pytest.mark.parametrize("seed", SEEDS)
def test_an_open_forget_gate_passes_the_gradient_back_at_init(seed: int) -> None:
    """forget-gate-bias, sentence 0, at init (no training needed)."""
    specs = lesson_specs("forget-gate-bias", seed)
    ratio = {label: first_to_last(SeqTrainer(s).time_grads()) for label, s in specs.items()}
    assert ratio["bias 1"] > 1000 * ratio["bias 0"], ratio


@pytest.mark.parametrize("seed", SEEDS)
def test_the_plain_rnns_gradient_through_time_collapses_within_two_epochs(seed: int) -> None:
    """vanishing-through-time, sentence 0, after two of its forty epochs."""
    spec = lesson_specs("vanishing-through-time", seed)["RNN (tanh)"]
    spec = spec.model_copy(update={"train": spec.train.model_copy(update={"epochs": 2})})
    evals = [r for r in SeqTrainer(spec).records() if r["kind"] == "eval"]
    assert first_to_last(evals[-1]["grad_t"]) < 1e-2, [first_to_last(e["grad_t"]) for e in evals]
