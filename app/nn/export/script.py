"""Export an experiment as a self-contained, readable PyTorch script (torch + stdlib only).

The script rebuilds the same data (the app's generator code and seeds), features, split,
model, init, optimizer, schedule and regularisers, trains with a plain loop, and prints one
JSON line last with the keys of `backprop train --json`'s "final". It reproduces the app's
numbers: the tests run it and compare with `Trainer(spec).run()["final"]`. Only the code a
spec needs is emitted (its dataset generator, its schedule, its regularisers).
"""

from __future__ import annotations

import inspect
import json
import re
import textwrap
import types
from typing import Any

from app.nn.choices.layers import ACTIVATIONS, INITS, NORMS
from app.nn.data import points as datasets_module
from app.nn.data.points import CUSTOM, DATASETS
from app.nn.export.code import FEATURE_CODE, INIT_CODE, loss_code, schedule_code, scores_code
from app.nn.export.loop import loop_code
from app.nn.spec.experiment import Spec
from app.nn.training.trainer import Trainer, derived_seeds, output_width


def _section(title: str) -> str:
    return f"\n\n# ---- {title} {'-' * (80 - len(title))}\n\n\n"


def _block(lines: list[str], indent: int) -> str:
    pad = " " * indent
    return "\n".join(pad + line if line else line for line in lines)


def _header(spec: Spec, trainer: Trainer) -> str:
    d, m, t = spec.data, spec.model, spec.train
    widths = [str(len(d.features))] + [f"{layer.units} {layer.activation}" for layer in m.layers]
    widths.append(str(output_width(spec, trainer.data)))
    source = f"{len(d.points or [])} custom points" if d.points else f"{d.samples} points"
    noise = "" if d.points else f", noise {d.noise:g}"
    opt = t.optimizer
    params = "".join(f", {k}={v}" for k, v in opt.params().items())
    regs = [f"{k}={getattr(t, k):g}" for k in ("l1", "l2", "weight_decay", "input_noise")]
    regs = [r for r in regs if not r.endswith("=0")]
    if t.grad_clip:
        regs.append(f"grad clip ({t.grad_clip.mode}) {t.grad_clip.max:g}")
    if t.early_stopping:
        regs.append(f"early stopping (patience {t.early_stopping.patience})")
    rows = {
        "Data": f"{d.dataset} ({spec.task}), {source}{noise}; features {', '.join(d.features)}",
        "Model": f"{' -> '.join(widths)}, init {m.init}",
        "Training": f"{opt.name} (lr {opt.lr:g}{params}), schedule {t.schedule.name}, "
        f"loss {spec.loss_name}, batch {spec.effective_batch_size()}, {t.epochs} epochs",
        "Extras": ", ".join(regs) or "none",
    }
    lines = [
        textwrap.fill(text, 96, initial_indent=f"{key + ':':<10}", subsequent_indent=" " * 10)
        for key, text in rows.items()
    ]
    return f'''"""Backprop Playground experiment, exported as a plain PyTorch script.

{chr(10).join(lines)}

Seed {spec.seed}: the same numbers as the app's run. The last line printed is JSON with the
final losses and scores.
"""
'''


def _constants(spec: Spec) -> str:
    n_train, n_val, n_test = spec.sizes()  # a family's own dataset, or the points'
    seeds = derived_seeds(spec.seed)
    t = spec.train
    lines = [
        "# Independent random streams, derived from the seed as the app derives them.",
        *(f"{k.upper()}_SEED = {v}" for k, v in seeds.items()),
        "",
        f"N_TRAIN, N_VAL, N_TEST = {n_train}, {n_val}, {n_test}",
        f"BATCH_SIZE = {spec.effective_batch_size()}",
        f"STEPS_PER_EPOCH = {spec.steps_per_epoch()}",
        f"EPOCHS = {t.epochs}",
        "TOTAL_STEPS = EPOCHS * STEPS_PER_EPOCH",
        f"LR = {t.optimizer.lr!r}",
    ]
    for key in ("l1", "l2", "weight_decay", "input_noise"):
        if getattr(t, key):
            lines.append(f"{key.upper()} = {getattr(t, key)!r}")
    if t.grad_clip:
        lines.append(f"GRAD_CLIP = {t.grad_clip.max!r}  # max {t.grad_clip.mode}")
    if t.early_stopping:
        es = t.early_stopping
        lines.append(f"PATIENCE, MIN_DELTA = {es.patience}, {es.min_delta!r}  # early stopping")
    if spec.model.init_scale is not None and "INIT_SCALE" in INIT_CODE[spec.model.init][1]:
        lines.append(f"INIT_SCALE = {spec.model.init_scale!r}")
    lines.append("DIVERGED = 1e4  # stop, like the app, when the loss exceeds this x its start")
    return "\n".join(lines) + "\n"


def _names(code: types.CodeType) -> set[str]:
    """Global names a function uses, comprehensions and nested functions included."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _helpers(gen: types.FunctionType) -> list[str]:
    """Source of a generator and the module-level helpers it uses, dependencies first."""
    out: list[str] = []
    seen: set[str] = set()

    def visit(fn: types.FunctionType) -> None:
        for name in sorted(_names(fn.__code__)):
            value = vars(datasets_module).get(name)
            if not name.startswith("_") or name in seen or value is None:
                continue
            seen.add(name)
            if isinstance(value, types.FunctionType):
                visit(value)
            else:
                out.append(f"{name} = {value!r}\n")
        out.append(inspect.getsource(fn))

    visit(gen)
    return out


def _data(spec: Spec) -> str:
    d = spec.data
    feats = ", ".join(FEATURE_CODE[f] for f in d.features)
    featurize = f'''def featurize(raw):
    """Network inputs from (N, 2) coordinates: {", ".join(d.features)}."""
    a, b = raw[:, 0], raw[:, 1]
    return torch.stack([{feats}], 1)
'''
    if d.dataset == CUSTOM:
        assert d.points is not None
        rows = "\n".join(f"    [{x!r}, {y!r}, {t!r}]," for x, y, t in d.points)
        source = f'''POINTS = [  # x1, x2, label
{rows}
]


def make_dataset():
    """The custom points, shuffled with the data seed, float64."""
    table = torch.tensor(POINTS, dtype=torch.float64)
    g = torch.Generator().manual_seed(DATA_SEED)
    order = torch.randperm(len(table), generator=g)
    return table[order, :2], table[order, 2]
'''
    else:
        gen = DATASETS[d.dataset].gen
        assert isinstance(gen, types.FunctionType)
        code = "\n\n".join(_helpers(gen))
        for name in re.findall(r"^(?:def )?(_\w+)", code, flags=re.M):
            code = re.sub(rf"\b{name}\b", name[1:], code)  # a script has no private names
        source = f"""Tensor = torch.Tensor
SAMPLES, NOISE = {d.samples}, {d.noise!r}


{code}

def make_dataset():
    \"\"\"All points and labels, shuffled with the data seed, float64.\"\"\"
    g = torch.Generator().manual_seed(DATA_SEED)
    raw, y = {gen.__name__[1:]}(SAMPLES, NOISE, g)
    order = torch.randperm(SAMPLES, generator=g)
    return raw[order], y[order]
"""
    return f'''{source}

{featurize}

def load_splits():
    """Train, validation and test splits: (raw coordinates, features, targets), float32."""
    raw, y = make_dataset()
    bounds = [(0, N_TRAIN), (N_TRAIN, N_TRAIN + N_VAL), (N_TRAIN + N_VAL, len(y))]
    splits = {{}}
    for name, (lo, hi) in zip(("train", "val", "test"), bounds, strict=True):
        r = raw[lo:hi].float()
        splits[name] = (r, featurize(r), y[lo:hi].float())
    return splits
'''


def _model(spec: Spec, n_out: int) -> str:
    layers = spec.model.layers
    norm = any(layer.norm != "none" for layer in layers)
    drop = any(layer.dropout > 0 for layer in layers)
    skip = any(layer.residual for layer in layers)
    args = ["n_in", "n_out", "activation"]
    args += ["norm=None"] if norm else []
    args += ["dropout=0.0"] if drop else []
    args += ["residual=False"] if skip else []
    order = "Linear" + (" -> norm" if norm else "") + " -> activation"
    order += " -> dropout" if drop else ""
    order += ", plus the input (a skip connection) when residual" if skip else ""
    init_lines = ["self.linear = nn.Linear(n_in, n_out)"]
    init_lines += ["self.norm = norm if norm is not None else nn.Identity()"] if norm else []
    init_lines += ["self.act = activation"]
    init_lines += ["self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()"] * drop
    init_lines += ["self.residual = residual"] if skip else []
    expr = "self.linear(x)"
    expr = f"self.norm({expr})" if norm else expr
    expr = f"self.act({expr})"
    expr = f"self.drop({expr})" if drop else expr
    ret = "x + h if self.residual else h" if skip else "h"
    blocks, width = [], len(spec.data.features)
    for layer in layers:
        make = ACTIVATIONS[layer.activation].make
        assert isinstance(make, type)
        call = [str(width), str(layer.units), f"nn.{make.__name__}()"]
        if layer.norm != "none":
            assert NORMS[layer.norm].make is not None
            kind = type(NORMS[layer.norm].make(layer.units)).__name__  # type: ignore[misc]
            call.append(f"norm=nn.{kind}({layer.units})")
        call += [f"dropout={layer.dropout!r}"] if layer.dropout > 0 else []
        call += ["residual=True"] if layer.residual else []
        blocks.append(f"Block({', '.join(call)}),")
        width = layer.units
    block_class = f'''class Block(nn.Module):
    """{order}."""

    def __init__(self, {", ".join(args)}):
        super().__init__()
{_block(init_lines, 8)}

    def forward(self, x):
        h = {expr}
        return {ret}


'''
    head_note = " (the loss takes logits)" if spec.task != "regression" else ""
    block_list = "[\n" + _block(blocks, 8) + "\n    ]" if blocks else "[]"
    return f"""{block_class if layers else ""}class Net(nn.Module):
    def __init__(self, blocks, head):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.head = head  # the output layer: no activation{head_note}

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


{_init(spec)}

def build_model():
    blocks = {block_list}
    model = Net(blocks, nn.Linear({width}, {n_out}))
    init_weights(model)
    return model
"""


def _init(spec: Spec) -> str:
    m = spec.model
    per_layer, fill = INIT_CODE[m.init]
    acts = [layer.activation for layer in m.layers] + ["linear"]
    values = [ACTIVATIONS[a].gain if per_layer == "gain" else ACTIVATIONS[a].kaiming for a in acts]
    if m.bias_init is not None:
        bias = f"linear.bias.fill_({m.bias_init!r})"
    elif m.init == "default":
        bias = "linear.bias.uniform_(-bound, bound, generator=g)"
    else:
        bias = "linear.bias.zero_()"
    loop = "for linear in linears:"
    fans = ["fan_out, fan_in = w.shape"] if "fan_" in fill else []
    lines = ["w = linear.weight", *fans, *fill.split("\n"), bias]
    table = ""
    if per_layer:
        names = "GAINS" if per_layer == "gain" else "NONLINEARITIES"
        note = ", ".join(acts)
        table = f"    # {per_layer} of the activation after each layer: {note}\n"
        table += f"    {names.lower()} = {json.dumps(values)}\n"
        loop = f"for linear, {per_layer} in zip(linears, {names.lower()}, strict=True):"
    return f'''def init_weights(model):
    """{INITS[m.init].label} init, drawn from its own seeded generator."""
    g = torch.Generator().manual_seed(INIT_SEED)
    linears = [block.linear for block in model.blocks] + [model.head]
{table}    with torch.no_grad():
        {loop}
{_block(lines, 12)}
'''


def _optimizer(trainer: Trainer) -> str:
    """The app's torch.optim class, groups and flags (read from the Trainer's own optimizer,
    so implementation flags such as fused/foreach always match)."""
    opt = trainer.optimizer
    cls = type(opt)
    signature = inspect.signature(cls.__init__).parameters
    kwargs = ["lr=LR"]
    for key, value in opt.defaults.items():
        default = signature[key].default if key in signature else None
        if key != "lr" and key in signature and value != default:
            kwargs.append(f"{key}={value!r}")
    names = {
        "weights": [id(p) for p in trainer.weights],
        "biases + norms": [id(p) for p in trainer.biases + trainer.extras],
        "params": [id(p) for p in trainer.weights + trainer.biases + trainer.extras],
    }
    groups: list[tuple[str, dict[str, Any]]] = []
    for group in opt.param_groups:
        ids = [id(p) for p in group["params"]]
        name = next((n for n, v in names.items() if v == ids), None)
        if name is None:
            raise NotImplementedError("export: the app's param groups have an unknown layout")
        groups.append((name, group))
    # Keys whose value differs between groups or from the class-wide defaults, in every group.
    keys = {
        k
        for _, g in groups
        for k, v in g.items()
        if k not in ("params", "lr") and v != opt.defaults.get(k)
    }
    groups = [(n, {k: g[k] for k in sorted(keys)}) for n, g in groups]
    if len(groups) == 1 and not groups[0][1]:
        first = groups[0][0]
    else:
        rows = [
            "{" + ", ".join([f'"params": {n}', *(f'"{k}": {v!r}' for k, v in e.items())]) + "},"
            for n, e in groups
        ]
        first = "[\n" + _block(rows, 8) + "\n    ]"
    one_line = f"torch.optim.{cls.__name__}({', '.join([first, *kwargs])})"
    if "\n" not in one_line and len(one_line) <= 80:
        return one_line
    return f"torch.optim.{cls.__name__}(\n    " + ",\n    ".join([first, *kwargs]) + ",\n)"


def export_script(spec: Spec) -> str:
    """A runnable script that trains this experiment as the app does and prints the result."""
    trainer = Trainer(spec)  # the source of truth for the data shape and optimizer flags
    task, n_out = spec.task, output_width(spec, trainer.data)
    t = spec.train
    sched_consts, sched_code = schedule_code(t.schedule.name, t.schedule.params())
    parts = [
        _header(spec, trainer) + "\n",
        "import copy\n" if t.early_stopping else "",
        "import json\nimport math\n\nimport torch\nimport torch.nn.functional as F\n",
        "from torch import nn\n\n",
        "torch.set_num_threads(1)  # as the app: one thread, the same summation order\n\n",
        _constants(spec) + sched_consts,
        _section("data"),
        _data(spec),
        _section("model"),
        _model(spec, n_out),
        _section("loss and scores"),
        loss_code(spec.loss_name, task, n_out, t.label_smoothing, t.huber_delta),
        "\n\n" + scores_code(task),
        "\n\n" + sched_code if sched_code else "",
        _section("training"),
        loop_code(spec, _optimizer(trainer), bool(trainer.extras)),
    ]
    return "".join(parts)
