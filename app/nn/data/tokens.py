"""Token tasks for the transformer family: short sequences over a small vocabulary, generated
here from the spec's seed (nothing is downloaded), one registry.

Every task becomes (tokens, targets), two (N, T) integer tensors: the model reads `tokens`
and is scored at the positions where `targets` is not IGNORE. How a problem is laid out
depends on the attention: bidirectional (an encoder) answers a sequence task in place,
position i giving the i-th output token; causal (a decoder) reads the input, a separator,
then the answer so far, and predicts the next answer token (teacher forcing). The
next-character task only makes sense causally (an encoder would read the answer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import torch

from app.nn.choices.registry import Entry, Registry
from app.nn.data.points import Data, DatasetInfo, Split, split_sizes
from app.nn.data.tiny_text import TEXT

Tensor = torch.Tensor
IGNORE = -100  # cross-entropy's ignore_index: positions that carry no target


@dataclass(frozen=True)
class TaskSize:
    length: int  # input sequence length (the text task: the context window)
    symbols: int  # distinct input symbols (digits 0..symbols-1)
    modulus: int  # p of the modular-addition task
    examples: int  # examples generated (modular addition: every pair; text: windows)


Problem = tuple[Tensor, Tensor]  # inputs (N, L) and answers (N, A) as symbol indices


def _random(size: TaskSize, g: torch.Generator) -> Tensor:
    return torch.randint(0, size.symbols, (size.examples, size.length), generator=g)


def _reverse(size: TaskSize, g: torch.Generator) -> Problem:
    x = _random(size, g)
    return x, x.flip(1)


def _sort(size: TaskSize, g: torch.Generator) -> Problem:
    x = _random(size, g)
    return x, x.sort(1).values


def _copy(size: TaskSize, g: torch.Generator) -> Problem:
    x = _random(size, g)
    return x, x.clone()


def _max(size: TaskSize, g: torch.Generator) -> Problem:
    x = _random(size, g)
    return x, x.amax(1, keepdim=True)


def _modadd(size: TaskSize, g: torch.Generator) -> Problem:
    p = size.modulus
    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    return torch.stack([a, b], 1), ((a + b) % p).unsqueeze(1)


def _text(size: TaskSize, g: torch.Generator) -> Problem:
    ids = torch.tensor([CHARS.index(c) for c in TEXT])
    starts = torch.randperm(len(TEXT) - size.length, generator=g)[: text_windows(size)]
    windows = ids[starts.unsqueeze(1) + torch.arange(size.length + 1)]
    return windows[:, :-1], windows[:, 1:]


CHARS = sorted(set(TEXT))


@dataclass(frozen=True)
class TaskInfo(Entry):
    # seq2seq: an answer as long as the input | answer: one token after '=' | pair: a + b =
    # (one token) | text: the next character at every position
    kind: str = "seq2seq"
    make: Callable[[TaskSize, torch.Generator], Problem] | None = None


TASKS: Registry[TaskInfo] = Registry(
    "token task",
    [
        TaskInfo("reverse", "Reverse", "Write the sequence backwards.", make=_reverse),
        TaskInfo("sort", "Sort", "Write the sequence's symbols in increasing order.", make=_sort),
        TaskInfo("copy", "Copy", "Write the sequence again.", make=_copy),
        TaskInfo("max", "Find the max", "Answer the largest symbol.", kind="answer", make=_max),
        TaskInfo(
            "modadd",
            "Modular addition",
            "a + b mod p over every pair; with weight decay it groks late.",
            kind="pair",
            make=_modadd,
        ),
        TaskInfo(
            "text",
            "Next character",
            "Predict the next character of a short text (causal attention only); sample it.",
            kind="text",
            make=_text,
        ),
    ],
)


def text_windows(size: TaskSize) -> int:
    return min(size.examples, len(TEXT) - size.length)


def n_examples(task: str, size: TaskSize) -> int:
    if task == "modadd":
        return size.modulus**2
    if task == "text":
        return text_windows(size)
    return size.examples


def vocabulary(task: str, size: TaskSize) -> list[str]:
    """The tokens' labels, index = token id; the last one of symbol tasks is the separator
    ('=' before an answer, '|' between a sequence and its rewrite)."""
    if task == "text":
        return list(CHARS)
    if task == "modadd":
        return [str(i) for i in range(size.modulus)] + ["+", "="]
    return [str(i) for i in range(size.symbols)] + ["=" if task == "max" else "|"]


def seq_length(task: str, length: int, causal: bool) -> int:
    """The model's input length for a task (what positional encodings must cover)."""
    kind = TASKS[task].kind
    if kind == "pair":
        return 4
    if kind == "answer":
        return length + 1
    if kind == "seq2seq" and causal:
        return 2 * length
    return length


def layout(kind: str, x: Tensor, y: Tensor, vocab: int, causal: bool) -> tuple[Tensor, Tensor]:
    """(tokens, targets) from a problem, for an encoder or a decoder (see the docstring)."""
    n = x.shape[0]
    if kind == "text":
        return x, y
    if kind == "pair":  # a + b =  ->  the answer at '='
        plus, eq = vocab - 2, vocab - 1
        tokens = torch.stack([x[:, 0], torch.full((n,), plus), x[:, 1], torch.full((n,), eq)], 1)
        return tokens, _answer_at_end(y, tokens.shape[1])
    sep = torch.full((n, 1), vocab - 1)
    if kind == "answer":
        tokens = torch.cat([x, sep], 1)
        return tokens, _answer_at_end(y, tokens.shape[1])
    if not causal:
        return x, y
    tokens = torch.cat([x, sep, y[:, :-1]], 1)
    return tokens, torch.cat([torch.full_like(x, IGNORE), y], 1)


def _answer_at_end(y: Tensor, length: int) -> Tensor:
    targets = torch.full((y.shape[0], length), IGNORE)
    targets[:, -1] = y[:, 0]
    return targets


def shuffle_split(
    tokens: Tensor, targets: Tensor, g: torch.Generator, train_fraction: float, val_fraction: float
) -> list[tuple[Tensor, Tensor]]:
    """(tokens, targets) of the train, validation and test splits, in a seeded order."""
    perm = torch.randperm(tokens.shape[0], generator=g)
    tokens, targets = tokens[perm], targets[perm]
    n_train, n_val, _ = split_sizes(tokens.shape[0], train_fraction, val_fraction)
    cuts = (0, n_train, n_train + n_val, tokens.shape[0])
    return [(tokens[a:b], targets[a:b]) for a, b in pairwise(cuts)]


@dataclass(frozen=True)
class TokenData:
    data: Data  # splits with x = raw = tokens (N, T) and y = targets (N, T)
    vocab: list[str]
    answer_positions: list[int]  # where targets are scored (the same for every example)


def make_tokens(
    task: str,
    size: TaskSize,
    causal: bool,
    train_fraction: float,
    val_fraction: float,
    seed: int,
) -> TokenData:
    """The task's examples laid out for the attention, shuffled by `seed` and split."""
    g = torch.Generator().manual_seed(seed)
    make = TASKS[task].make
    assert make is not None
    x, y = make(size, g)
    vocab = vocabulary(task, size)
    tokens, targets = layout(TASKS[task].kind, x, y, len(vocab), causal)
    parts = shuffle_split(tokens, targets, g, train_fraction, val_fraction)
    splits = [Split(raw=tok, x=tok, y=tgt) for tok, tgt in parts]
    info = DatasetInfo(task, TASKS[task].label, task="multiclass", classes=len(vocab), dims=0)
    data = Data(info, (), *splits)
    positions = (targets[0] != IGNORE).nonzero().flatten().tolist()
    return TokenData(data, vocab, positions)
