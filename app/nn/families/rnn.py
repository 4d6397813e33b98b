"""The recurrent family: RNN, GRU and LSTM on toy sequence tasks (app.nn.models.rnn,
app.nn.data.sequences), with ||dL/dh_t|| through time as a live view."""

from __future__ import annotations

from app.nn.export.rnn import export_rnn_script
from app.nn.families.base import Family
from app.nn.training.sequences import SeqTrainer, live_snapshot

RNN = Family(
    "rnn",
    "Recurrent network (RNN, GRU, LSTM)",
    "A recurrent layer (or a stack) reads a sequence step by step; a dense head reads h_T.",
    data="toy sequences (adding, copy, parity, brackets, next value of a sine)",
    trainer=SeqTrainer,
    export=export_rnn_script,
    live_snapshot=live_snapshot,
    views=("sequence", "charts", "diagnostics", "landscape"),
)
