"""Recurrent cells, one registry: torch's own modules (nn.RNN, nn.GRU, nn.LSTM).

`gates` names the gate activations the live view shows (torch's order of the stacked
weight rows: LSTM i, f, g, o; GRU r, z, n); `memory_gate` is the gate whose bias decides how
much of the past is kept at init (LSTM forget f, GRU update z: h' = (1 - z) n + z h).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.nn.choices.registry import Entry, Registry


@dataclass(frozen=True)
class CellInfo(Entry):
    module: str = "RNN"  # the torch.nn class
    nonlinearity: str = "tanh"  # nn.RNN's nonlinearity
    chunks: tuple[str, ...] = ("h",)  # the blocks of rows of weight_ih / weight_hh, in order
    gates: tuple[str, ...] = ()  # the chunks that are sigmoid gates, shown live
    memory_gate: str = ""


CELLS: Registry[CellInfo] = Registry(
    "recurrent cell",
    [
        CellInfo(
            "rnn_tanh",
            "RNN (tanh)",
            "h_t = tanh(W x_t + U h_{t-1} + b): the plain recurrent net.",
        ),
        CellInfo(
            "rnn_relu",
            "RNN (ReLU)",
            "h_t = relu(W x_t + U h_{t-1} + b): unbounded, prone to exploding.",
            nonlinearity="relu",
        ),
        CellInfo(
            "gru",
            "GRU",
            "Reset and update gates; h_t = (1 - z) n + z h_{t-1}.",
            module="GRU",
            chunks=("r", "z", "n"),
            gates=("r", "z"),
            memory_gate="z",
        ),
        CellInfo(
            "lstm",
            "LSTM",
            "Input, forget and output gates around an additive cell state c_t.",
            module="LSTM",
            chunks=("i", "f", "g", "o"),
            gates=("i", "f", "o"),
            memory_gate="f",
        ),
    ],
)
