"""Concept 11: with the same coefficient, SGD + L2 and SGD + weight decay give the same
weights, while Adam + L2 and AdamW end with clearly different weight norms."""

import pytest
import torch

from tests.lessons.runner import run_lesson


def measure(seed: int | None = None) -> dict[str, dict]:
    runs = run_lesson("adamw", seed)
    flat = {
        label: torch.cat([w.detach().reshape(-1) for w in run.trainer.weights])
        for label, run in runs.items()
    }
    out: dict[str, dict] = {
        label: {"norm": float(flat[label].norm()), "acc": run.final["test_acc"]}
        for label, run in runs.items()
    }
    out["sgd_pair"] = {"max_diff": float((flat["SGD + L2"] - flat["SGD + decay"]).abs().max())}
    return out


@pytest.mark.parametrize("seed", [None, 2])
def test_l2_equals_decay_under_sgd_but_not_under_adam(seed: int | None) -> None:
    m = measure(seed)
    # Seeds 0-4: SGD pair identical to 4e-6; Adam + L2 norm 4.4-4.7 vs AdamW 9.0-9.6
    # (ratio <= 0.50); every run's test accuracy >= 0.98.
    assert m["sgd_pair"]["max_diff"] < 1e-4
    assert m["Adam + L2"]["norm"] < 0.6 * m["AdamW"]["norm"]
    assert min(m[k]["acc"] for k in ("SGD + L2", "Adam + L2", "AdamW")) >= 0.9
