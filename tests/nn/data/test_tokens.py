"""Token tasks: each answer checked against plain Python, layouts for encoders and decoders,
seeded and split like the points."""

from __future__ import annotations

import pytest
import torch

from app.nn.data.tiny_text import TEXT
from app.nn.data.tokens import IGNORE, TASKS, TaskSize, make_tokens, seq_length

SIZE = TaskSize(length=6, symbols=7, modulus=5, examples=200)


def problems(task: str, causal: bool = False) -> tuple[list[list[int]], list[list[int]], int]:
    td = make_tokens(task, SIZE, causal, 1.0, 0.0, seed=3)
    return td.data.train.x.tolist(), td.data.train.y.tolist(), len(td.vocab)


@pytest.mark.parametrize(
    ("task", "answer"),
    [("reverse", lambda x: x[::-1]), ("sort", sorted), ("copy", list)],
)
def test_sequence_tasks_in_place_for_an_encoder(task: str, answer: object) -> None:
    xs, ys, vocab = problems(task)
    assert vocab == SIZE.symbols + 1 and len(xs) == SIZE.examples
    for x, y in zip(xs, ys, strict=True):
        assert y == answer(x)  # type: ignore[operator]


def test_a_decoder_reads_input_separator_then_the_answer_so_far() -> None:
    xs, ys, vocab = problems("reverse", causal=True)
    assert len(xs[0]) == seq_length("reverse", SIZE.length, True) == 12
    for x, y in zip(xs, ys, strict=True):
        src, sep, so_far = x[:6], x[6], x[7:]
        assert sep == vocab - 1
        assert y[:6] == [IGNORE] * 6 and y[6:] == src[::-1]
        assert so_far == src[::-1][:-1]  # teacher forcing: the answer shifted by one


def test_max_and_modular_addition_answer_at_the_end() -> None:
    xs, ys, _ = problems("max")
    assert all(y[:-1] == [IGNORE] * 6 and y[-1] == max(x[:-1]) for x, y in zip(xs, ys, strict=True))
    xs, ys, vocab = problems("modadd")
    assert vocab == SIZE.modulus + 2
    assert sorted((x[0], x[2]) for x in xs) == [(a, b) for a in range(5) for b in range(5)]
    assert all(y[-1] == (x[0] + x[2]) % 5 for x, y in zip(xs, ys, strict=True))


def test_text_windows_predict_the_next_character() -> None:
    td = make_tokens("text", TaskSize(10, 2, 3, 50), True, 1.0, 0.0, seed=1)
    for x, y in zip(td.data.train.x.tolist(), td.data.train.y.tolist(), strict=True):
        text = "".join(td.vocab[i] for i in x) + td.vocab[y[-1]]
        assert text in TEXT and y[:-1] == x[1:]
    assert td.answer_positions == list(range(10))


def test_seeded_and_split() -> None:
    a = make_tokens("sort", SIZE, False, 0.5, 0.25, seed=9)
    b = make_tokens("sort", SIZE, False, 0.5, 0.25, seed=9)
    c = make_tokens("sort", SIZE, False, 0.5, 0.25, seed=10)
    assert torch.equal(a.data.train.x, b.data.train.x)
    assert not torch.equal(a.data.train.x, c.data.train.x)
    assert [len(s) for s in a.data.splits().values()] == [100, 50, 50]
    assert set(TASKS) == {"reverse", "sort", "copy", "max", "modadd", "text"}
