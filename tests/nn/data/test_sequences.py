"""The sequence tasks: seeded, and every target checked by an independent computation."""

from __future__ import annotations

import pytest
import torch

from app.nn.data.sequences import (
    ADDING_CHANCE_MSE,
    COPY_SYMBOLS,
    SEQ_TASKS,
    make_sequences,
    running_targets,
)


def gen(task: str, n: int = 400, length: int = 30, noise: float = 0.0, seed: int = 3):
    info = SEQ_TASKS[task]
    assert info.gen is not None
    return info.gen(n, length, noise, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("task", SEQ_TASKS.keys())
def test_same_seed_same_data_other_seed_other_data_and_shapes(task: str) -> None:
    x, y = gen(task)
    x2, y2 = gen(task)
    x3, _ = gen(task, seed=4)
    assert torch.equal(x, x2) and torch.equal(y, y2) and not torch.equal(x, x3)
    info = SEQ_TASKS[task]
    assert x.shape == (400, 30, info.dims) and y.shape == (400,)
    assert x.dtype == torch.float32 and y.dtype == torch.float32
    if info.task != "regression":
        assert set(y.long().tolist()) == set(range(info.classes))


def test_adding_targets_are_the_two_marked_numbers_and_chance_is_one_sixth() -> None:
    x, y = gen("adding", n=4000, length=20)
    for i in range(50):
        marked = [float(x[i, t, 0]) for t in range(20) if x[i, t, 1] == 1.0]
        assert len(marked) == 2 and sum(marked) == pytest.approx(float(y[i]), abs=1e-6)
        first, second = [t for t in range(20) if x[i, t, 1] == 1.0]
        assert first < 10 <= second  # one mark in each half
    constant_mse = float(((y - 1.0) ** 2).mean())
    assert constant_mse == pytest.approx(ADDING_CHANCE_MSE, abs=0.01)


def test_parity_copy_and_brackets_labels_from_their_definitions() -> None:
    x, y = gen("parity")
    assert [int(v) for v in y[:40]] == [int(sum(int(b) for b in row[:, 0])) % 2 for row in x[:40]]
    x, y = gen("copy", noise=0.3)
    assert torch.equal(x[:, 0, :COPY_SYMBOLS].argmax(1).float(), y)
    assert bool((x[:, -1, COPY_SYMBOLS] == 1).all())
    x, y = gen("brackets", n=300, length=17)
    for row, label in zip(x, y, strict=True):
        text = "".join("(" if r[0] else ")" if r[1] else "" for r in row.tolist())
        stack = 0
        ok = True
        for ch in text:
            stack += 1 if ch == "(" else -1
            ok = ok and stack >= 0
        assert float(ok and stack == 0) == float(label)
    assert 0.4 <= float(y.mean()) <= 0.6  # half balanced, half near misses


def test_a_noiseless_sine_target_is_its_own_continuation() -> None:
    """sin obeys s[t+1] = 2 cos(w) s[t] - s[t-1]: the next value from the last three."""
    x, y = gen("sine", n=50, length=12)
    s = x[:, :, 0].double()
    two_cos = (s[:, -1] + s[:, -3]) / s[:, -2]
    ok = s[:, -2].abs() > 0.2  # the ratio is ill-conditioned near a zero crossing
    predicted = two_cos * s[:, -1] - s[:, -2]
    assert torch.allclose(predicted[ok], y.double()[ok], atol=1e-4)


@pytest.mark.parametrize("task", SEQ_TASKS.keys())
def test_running_targets_end_with_the_target_and_splits_are_in_order(task: str) -> None:
    data = make_sequences(task, 60, 10, 0.0, (30, 10, 20), 7)
    x, y = gen(task, n=60, length=10, seed=7)
    assert torch.equal(data.train.x, x[:30]) and torch.equal(data.test.y, y[40:])
    running = running_targets(task, data.train.x, data.train.y)
    assert running.shape == (30, 10)
    assert torch.allclose(running[:, -1], data.train.y, atol=1e-6)


@pytest.mark.parametrize("task", SEQ_TASKS.keys())
def test_each_tasks_chance_is_the_best_constant_answers_score_on_its_data(task: str) -> None:
    """The registry's chance (what sweeps read scores against) against 20,000 drawn examples:
    the targets' variance for regression, the commonest class's share otherwise."""
    info = SEQ_TASKS[task]
    _, y = gen(task, n=20_000, length=12, noise=0.2, seed=11)
    if info.task == "regression":
        empirical = float(((y - y.mean()) ** 2).mean())
        assert empirical == pytest.approx(info.chance, rel=0.05)
    else:
        shares = torch.bincount(y.long(), minlength=info.classes).float() / len(y)
        assert float(shares.max()) == pytest.approx(info.chance, abs=0.015)
