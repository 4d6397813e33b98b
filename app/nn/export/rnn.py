"""Export a recurrent experiment as a runnable PyTorch script (torch + stdlib only).

The script carries the task's generator (the app's own code), the stacked torch recurrent
modules, the per-gate init, and the dense exporter's loss, scores, schedule and training
loop (app.nn.export.loop), so it prints the app's final numbers: the tests run it and
compare with `SeqTrainer(spec).run()["final"]`.
"""

from __future__ import annotations

import inspect
import json
import re
import types

from app.nn.choices.cells import CELLS
from app.nn.choices.layers import ACTIVATIONS, INITS, NORMS
from app.nn.data import sequences as seq_module
from app.nn.data.sequences import SEQ_TASKS
from app.nn.export.code import INIT_CODE, loss_code, schedule_code, scores_code
from app.nn.export.loop import loop_code
from app.nn.export.script import _block, _constants, _optimizer, _section
from app.nn.spec.experiment import LayerSpec, Spec
from app.nn.training.sequences import SeqTrainer, output_width, rnn_part


def _helpers(gen: types.FunctionType) -> str:
    """The generator's source and the module-level functions and constants it uses."""
    out: list[str] = []
    seen: set[str] = set()

    def visit(fn: types.FunctionType) -> None:
        names = set(fn.__code__.co_names)
        for const in fn.__code__.co_consts:
            if isinstance(const, types.CodeType):
                names |= set(const.co_names)
        for name in sorted(names):
            value = vars(seq_module).get(name)
            if name in seen or value is None:
                continue
            if isinstance(value, types.FunctionType) and value.__module__ == seq_module.__name__:
                seen.add(name)
                visit(value)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                seen.add(name)
                out.append(f"{name} = {value!r}\n")
        out.append(inspect.getsource(fn))

    visit(gen)
    code = "\n\n".join(out)
    for name in re.findall(r"^(?:def )?(_\w+)", code, flags=re.M):
        code = re.sub(rf"\b{name}\b", name[1:], code)  # a script has no private names
    return code


def _data(spec: Spec) -> str:
    part = rnn_part(spec)
    gen = SEQ_TASKS[part.dataset].gen
    assert isinstance(gen, types.FunctionType)
    return f'''Tensor = torch.Tensor
SAMPLES, LENGTH, NOISE = {part.samples}, {part.length}, {part.noise!r}


{_helpers(gen)}

def featurize(x):
    """The network reads the sequence itself (the loop's input noise goes on it)."""
    return x


def load_splits():
    """Train, validation and test splits: (sequences, sequences, targets), float32."""
    g = torch.Generator().manual_seed(DATA_SEED)
    x, y = {gen.__name__.lstrip("_")}(SAMPLES, LENGTH, NOISE, g)
    bounds = [(0, N_TRAIN), (N_TRAIN, N_TRAIN + N_VAL), (N_TRAIN + N_VAL, SAMPLES)]
    splits = {{}}
    for name, (lo, hi) in zip(("train", "val", "test"), bounds, strict=True):
        xs = x[lo:hi].contiguous()
        splits[name] = (xs, xs, y[lo:hi].contiguous())
    return splits
'''


def _head_block(layer_specs: list[LayerSpec], width: int) -> tuple[list[str], int]:
    rows = []
    for layer in layer_specs:
        make = ACTIVATIONS[layer.activation].make
        assert isinstance(make, type)
        norm = "None"
        if layer.norm != "none":
            assert NORMS[layer.norm].make is not None
            kind = type(NORMS[layer.norm].make(layer.units)).__name__  # type: ignore[misc]
            norm = f"nn.{kind}({layer.units})"
        rows.append(
            f"Block({width}, {layer.units}, nn.{make.__name__}(), {norm}, "
            f"{layer.dropout!r}, {layer.residual}),"
        )
        width = layer.units
    return rows, width


def _model(spec: Spec, n_in: int, n_out: int) -> str:
    part = rnn_part(spec)
    cell = CELLS[part.cell]
    if cell.module == "RNN":
        make = f'nn.RNN(width, HIDDEN, nonlinearity="{cell.nonlinearity}", batch_first=True)'
    else:
        make = f"nn.{cell.module}(width, HIDDEN, batch_first=True)"
    norm = "nn.LayerNorm(HIDDEN)" if part.layer_norm else "nn.Identity()"
    drop = f"nn.Dropout({part.dropout!r})" if part.dropout > 0 else "nn.Identity()"
    blocks, width = _head_block(list(spec.model.layers), part.hidden)
    block_list = (
        "\n            [\n" + _block(blocks, 16) + "\n            ]\n        " if blocks else "[]"
    )
    return f'''HIDDEN, LAYERS = {part.hidden}, {part.layers}


class Block(nn.Module):
    """A dense head layer: Linear -> norm -> activation -> dropout (+ input if residual)."""

    def __init__(self, n_in, n_out, activation, norm, dropout, residual):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.norm = norm if norm is not None else nn.Identity()
        self.act = activation
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.residual = residual

    def forward(self, x):
        h = self.drop(self.act(self.norm(self.linear(x))))
        return x + h if self.residual else h


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList({block_list})
        self.head = nn.Linear({width}, {n_out})  # no activation (the loss takes logits)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


class Pair:
    """A recurrent layer's input or recurrent weights with their bias (one chart "layer")."""

    def __init__(self, weight, bias):
        self.weight, self.bias = weight, bias


class Net(nn.Module):
    """{cell.label}: {part.layers} layer(s) of {part.hidden} units, then the head on h_T."""

    def __init__(self):
        super().__init__()
        rnns, width = [], {n_in}
        for _ in range(LAYERS):
            rnns.append({make})
            width = HIDDEN
        self.rnns = nn.ModuleList(rnns)
        # A norm on each layer's hidden states, dropout between layers.
        self.norms = nn.ModuleList([{norm} for _ in rnns])
        self.drop = {drop}
        self.head = Head()

    def forward(self, x):
        h = x
        for i, (rnn, norm) in enumerate(zip(self.rnns, self.norms, strict=True)):
            if i:
                h = self.drop(h)
            h = norm(rnn(h)[0])
        return self.head(h[:, -1])  # the last hidden state h_T

    def linears(self):
        pairs = []
        for rnn in self.rnns:
            pairs.append(Pair(rnn.weight_ih_l0, rnn.bias_ih_l0))
            pairs.append(Pair(rnn.weight_hh_l0, rnn.bias_hh_l0))
        return pairs + [block.linear for block in self.head.blocks] + [self.head.head]

    def norm_parameters(self):
        """LayerNorm parameters (never decayed), in module order."""
        ids = {{id(p) for pair in self.linears() for p in (pair.weight, pair.bias)}}
        return [p for p in self.parameters() if id(p) not in ids]


{_init(spec)}

def build_model():
    model = Net()
    init_weights(model)
    return model
'''


def _init(spec: Spec) -> str:
    part, m = rnn_part(spec), spec.model
    cell = CELLS[part.cell]
    per, fill = INIT_CODE[m.init]
    value = {"gain": "gain", "nonlinearity": "nonlinearity"}.get(per, "")

    def arg(fn: str) -> object:
        act = ACTIVATIONS[fn]
        return act.gain if per == "gain" else act.kaiming

    chunks = [("sigmoid" if c in cell.gates else cell.nonlinearity) for c in cell.chunks]
    ih = [arg(fn) for fn in chunks]
    hh = [1.0 if per == "gain" else arg(fn) for fn in chunks]
    head = [arg(layer.activation) for layer in m.layers] + [arg("linear")]
    bias = f"p.fill_({m.bias_init!r})" if m.bias_init is not None else "p.zero_()"
    head_bias = (
        f"linear.bias.fill_({m.bias_init!r})"
        if m.bias_init is not None
        else "linear.bias.uniform_(-1 / math.sqrt(linear.weight.shape[1]), "
        "1 / math.sqrt(linear.weight.shape[1]), generator=g)"
        if m.init == "default"
        else "linear.bias.zero_()"
    )
    if m.init == "default":
        rnn_fill = "p.uniform_(-1 / math.sqrt(HIDDEN), 1 / math.sqrt(HIDDEN), generator=g)"
    else:
        rnn_fill = f"""if name.startswith("bias"):
    {bias}
else:
    per_gate = INPUT_ARGS if name == "weight_ih_l0" else RECURRENT_ARGS
    for rows, value in zip(p.chunk({len(cell.chunks)}, 0), per_gate, strict=True):
        fill(rows, value, g)"""
    memory = ""
    if cell.memory_gate:
        at = cell.chunks.index(cell.memory_gate)
        memory = f"""
            # The {cell.memory_gate} gate's bias starts at FORGET_BIAS (1 keeps the past at init).
            rows = slice({at} * HIDDEN, {at + 1} * HIDDEN)
            rnn.bias_ih_l0[rows] = FORGET_BIAS
            rnn.bias_hh_l0[rows] = 0.0"""
    return f'''FORGET_BIAS = {part.forget_bias!r}
# The init's {per or "argument"} per block of rows ({", ".join(cell.chunks)}): input weights get
# their function's, recurrent weights gain 1 (the same matrix is applied T times).
INPUT_ARGS = {json.dumps(ih)}
RECURRENT_ARGS = {json.dumps(hh)}
HEAD_ARGS = {json.dumps(head)}


def fill(w, {value or "unused"}, g):
    """{INITS[m.init].label} init of one weight block."""
    fan_out, fan_in = w.shape
{_block(fill.split(chr(10)), 4)}


def init_weights(model):
    g = torch.Generator().manual_seed(INIT_SEED)
    with torch.no_grad():
        for rnn in model.rnns:
            for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
                p = getattr(rnn, name)
{_block(rnn_fill.split(chr(10)), 16)}{memory}
        head = [block.linear for block in model.head.blocks] + [model.head.head]
        for linear, value in zip(head, HEAD_ARGS, strict=True):
            fill(linear.weight, value, g)
            {head_bias}
'''


def export_rnn_script(spec: Spec) -> str:
    """A runnable script that trains this recurrent experiment as the app does."""
    trainer = SeqTrainer(spec)
    part = rnn_part(spec)
    task, n_out = spec.task, output_width(trainer.seq_data)
    t = spec.train
    sched_consts, sched_code = schedule_code(t.schedule.name, t.schedule.params())
    loop = loop_code(spec, _optimizer(trainer), bool(trainer.extras))
    loop = loop.replace(
        "linears = [block.linear for block in model.blocks] + [model.head]",
        "linears = model.linears()  # recurrent (input, recurrent) pairs, then the head",
    ).replace(
        "norms = [p for block in model.blocks for p in block.norm.parameters()]",
        "norms = model.norm_parameters()",
    )
    seed_line = "torch.manual_seed(DROPOUT_SEED)  # dropout masks use the global generator"
    if part.dropout > 0 and seed_line not in loop:
        order = "    order_gen = torch.Generator().manual_seed(ORDER_SEED)  # batch order\n"
        loop = loop.replace(order, order + "    " + seed_line + "\n")
    head = [layer.units for layer in spec.model.layers]
    rows = [
        f"Task:     {SEQ_TASKS[part.dataset].label} ({task}), "
        f"{part.samples} sequences of T={part.length}",
        f"Model:    {CELLS[part.cell].label}, {part.layers} x {part.hidden} units, "
        f"head {head} -> {n_out}",
        f"Training: {t.optimizer.name} (lr {t.optimizer.lr:g}), loss {spec.loss_name}, "
        f"batch {spec.effective_batch_size()}, {t.epochs} epochs",
    ]
    header = f'''"""Backprop Playground experiment (recurrent family), as a plain PyTorch script.

{chr(10).join(rows)}

Seed {spec.seed}: the same numbers as the app's run. The last line printed is JSON with the
final losses and scores.
"""
'''
    parts = [
        header + "\n",
        "import copy\n" if t.early_stopping else "",
        "import json\nimport math\n\nimport torch\nimport torch.nn.functional as F\n",
        "from torch import nn\n\n",
        "torch.set_num_threads(1)  # as the app: one thread, the same summation order\n\n",
        _constants(spec) + sched_consts,
        _section("data"),
        _data(spec),
        _section("model"),
        _model(spec, trainer.seq_data.info.dims, n_out),
        _section("loss and scores"),
        loss_code(spec.loss_name, task, n_out, t.label_smoothing, t.huber_delta),
        "\n\n" + scores_code(task),
        "\n\n" + sched_code if sched_code else "",
        _section("training"),
        loop,
    ]
    return "".join(parts)
