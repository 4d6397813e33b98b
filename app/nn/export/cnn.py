"""Export a convolutional experiment as a self-contained PyTorch script (torch + stdlib).

The script carries its data (the digits file itself, base64, or the shapes generator's
source), the same seeds, the conv net and its init, augmentation, and the MLP exporter's
loss, scores, schedule and training loop (app/nn/export/loop.py), so it prints the app's
final numbers: tests/nn/export/test_cnn.py runs it and compares.
"""

from __future__ import annotations

import base64
import inspect
import json
import re
import textwrap
from collections.abc import Callable
from typing import Any

from app.nn.choices.layers import ACTIVATIONS, INITS
from app.nn.data import augment as augment_module
from app.nn.data import shapes as shapes_module
from app.nn.data.images import DIGITS_FILE, IMAGE_DATASETS, SHIFTED_SCALE
from app.nn.export.code import INIT_CODE, loss_code, schedule_code, scores_code
from app.nn.export.loop import loop_code
from app.nn.export.script import _block, _constants, _optimizer, _section
from app.nn.models.cnn import ConvNet
from app.nn.spec.cnn import CnnPart
from app.nn.spec.experiment import Spec
from app.nn.training.cnn import AUGMENT_SEED, CnnTrainer


def _public(code: str) -> str:
    """A script has no private names: _draw -> draw."""
    for name in re.findall(r"^def (_\w+)", code, flags=re.M):
        code = re.sub(rf"\b{name}\b", name[1:], code)
    return code


def _header(spec: Spec, part: CnnPart, trainer: CnnTrainer) -> str:
    convs = [
        f"{c.channels}@{c.kernel}x{c.kernel}/{c.stride} pad {c.padding}"
        + (f" {c.pool}pool" if c.pool != "none" else "")
        + f" {c.activation}"
        + (" bn" if c.batchnorm else "")
        + (f" drop {c.dropout:g}" if c.dropout else "")
        for c in part.conv
    ]
    dense = [f"{layer.units} {layer.activation}" for layer in spec.model.layers]
    t, opt = spec.train, spec.train.optimizer
    a = part.augment
    params = sum(p.numel() for p in trainer.model.parameters())
    rows = {
        "Data": f"{IMAGE_DATASETS[part.dataset].label}: {part.samples} images "
        f"{part.size}x{part.size}, {part.classes} classes",
        "Model": " -> ".join(["image", *convs, *dense, str(part.classes)])
        + f", init {spec.model.init}, {params} parameters",
        "Training": f"{opt.name} (lr {opt.lr:g}), schedule {t.schedule.name}, loss "
        f"{spec.loss_name}, batch {spec.effective_batch_size()}, {t.epochs} epochs",
        "Augment": f"shift {a.shift}, rotate {a.rotate:g}, noise {a.noise:g}"
        if a.active()
        else "none",
    }
    lines = [
        textwrap.fill(text, 96, initial_indent=f"{key + ':':<10}", subsequent_indent=" " * 10)
        for key, text in rows.items()
    ]
    credit = IMAGE_DATASETS[part.dataset].attribution
    note = f"\nDigits: {credit}.\n" if credit else ""
    return f'''"""Backprop Playground experiment (a convolutional net), as a plain PyTorch script.

{chr(10).join(lines)}
{note}
Seed {spec.seed}: the same numbers as the app's run. The last line printed is JSON with the
final losses and scores.
"""
'''


def _data(part: CnnPart) -> str:
    if part.dataset == "digits":
        blob = base64.b64encode(DIGITS_FILE.read_bytes()).decode("ascii")
        wrapped = "\n".join(f'    "{blob[i : i + 92]}"' for i in range(0, len(blob), 92))
        source = f'''# The UCI optical digits (CC BY 4.0): the app's digits.csv.gz, base64.
DIGITS_CSV_GZ = (
{wrapped}
)


def make_dataset():
    """All 1,797 digits (N, 1, 8, 8) in [0, 1] and labels, shuffled with the data seed."""
    text = gzip.decompress(base64.b64decode(DIGITS_CSV_GZ)).decode("ascii")
    table = torch.tensor([[int(v) for v in line.split(",")] for line in text.splitlines()])
    images = (table[:, :64].double() / 16.0).reshape(-1, 1, 8, 8)
    labels = table[:, 64].double()
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(DATA_SEED))
    return images[order], labels[order]
'''
    else:
        funcs: list[Callable[..., Any]] = [
            shapes_module._coords,
            shapes_module._draw,
            shapes_module.shapes,
        ]
        code = _public("\n\n".join(inspect.getsource(f) for f in funcs))
        consts = (
            f"SHAPES = {json.dumps(shapes_module.SHAPES)}\n"
            f"MIN_CLASSES, MAX_CLASSES = {shapes_module.MIN_CLASSES}, {shapes_module.MAX_CLASSES}"
        )
        entry = IMAGE_DATASETS[part.dataset]
        if entry.shifted_test:
            body = """near, near_y = shapes(N_TRAIN + N_VAL, SIZE, CLASSES, NOISE, 0, g, SCALE)
    far, far_y = shapes(N_TEST, SIZE, CLASSES, NOISE, SIZE // 4, g, SCALE)
    order = torch.randperm(N_TRAIN + N_VAL, generator=g)
    return torch.cat([near[order], far]), torch.cat([near_y[order], far_y])"""
            what = "train and validation centred,\n    test shifted"
        else:
            body = """images, labels = shapes(SAMPLES, SIZE, CLASSES, NOISE, SIZE // 6, g)
    order = torch.randperm(SAMPLES, generator=g)
    return images[order], labels[order]"""
            what = "each shape up to a sixth of the\n    side off centre"
        source = f'''Tensor = torch.Tensor
{consts}
SAMPLES, SIZE, CLASSES, NOISE = {part.samples}, {part.size}, {part.classes}, {part.noise!r}
SCALE = {SHIFTED_SCALE!r}  # half-size / side of the shifted variant's shapes


{code}

def make_dataset():
    """The images (N, 1, SIZE, SIZE) and labels in split order: {what}."""
    g = torch.Generator().manual_seed(DATA_SEED)
    {body}
'''
    return f'''{source}

def load_splits():
    """Train, validation and test splits: (images, images, labels), float32."""
    images, y = make_dataset()
    bounds = [(0, N_TRAIN), (N_TRAIN, N_TRAIN + N_VAL), (N_TRAIN + N_VAL, len(y))]
    splits = {{}}
    for name, (lo, hi) in zip(("train", "val", "test"), bounds, strict=True):
        x = images[lo:hi].float().contiguous()
        splits[name] = (x, x, y[lo:hi].float())
    return splits
'''


def _model(spec: Spec, part: CnnPart, net: ConvNet) -> str:
    convs = []
    c_in = 1
    for c in part.conv:
        make = ACTIVATIONS[c.activation].make
        assert isinstance(make, type)
        args = [str(c_in), str(c.channels), str(c.kernel), str(c.stride), str(c.padding)]
        args += [f'"{c.pool}"', f"nn.{make.__name__}()"]
        args += ["batchnorm=True"] if c.batchnorm else []
        args += [f"dropout={c.dropout!r}"] if c.dropout else []
        convs.append(f"ConvBlock({', '.join(args)}),")
        c_in = c.channels
    dense, width = [], part.flat_width()
    for layer in spec.model.layers:
        make = ACTIVATIONS[layer.activation].make
        assert isinstance(make, type)
        args = [str(width), str(layer.units), f"nn.{make.__name__}()", f'"{layer.norm}"']
        args += [f"dropout={layer.dropout!r}"] if layer.dropout else []
        args += ["residual=True"] if layer.residual else []
        dense.append(f"Block({', '.join(args)}),")
        width = layer.units
    blocks = "[\n" + _block([*convs, *dense], 8) + "\n    ]" if convs or dense else "[]"
    return f'''class ConvBlock(nn.Module):
    """Conv2d -> BatchNorm2d (optional) -> activation -> 2x2 pool -> dropout."""

    def __init__(
        self, c_in, c_out, kernel, stride, padding, pool, act, batchnorm=False, dropout=0.0
    ):
        super().__init__()
        self.linear = nn.Conv2d(c_in, c_out, kernel, stride, padding)
        self.norm = nn.BatchNorm2d(c_out) if batchnorm else nn.Identity()
        self.act = act
        pools = {{
            "max": nn.MaxPool2d(2),
            "avg": nn.AvgPool2d(2),
            "global_max": nn.AdaptiveMaxPool2d(1),
            "global_avg": nn.AdaptiveAvgPool2d(1),
            "none": nn.Identity(),
        }}
        self.pool = pools[pool]
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x):
        return self.drop(self.pool(self.act(self.norm(self.linear(x)))))


class Block(nn.Module):
    """The dense head's layers: Linear -> norm -> activation -> dropout (+ skip)."""

    def __init__(self, n_in, n_out, act, norm="none", dropout=0.0, residual=False):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        norms = {{"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}}
        self.norm = norms[norm](n_out) if norm in norms else nn.Identity()
        self.act = act
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.residual = residual

    def forward(self, x):
        h = self.drop(self.act(self.norm(self.linear(x))))
        return x + h if self.residual else h


class Net(nn.Module):
    def __init__(self, blocks, head, n_conv):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.head = head  # the output layer: class logits (the loss takes logits)
        self.n_conv = n_conv

    def forward(self, x):
        for i, block in enumerate(self.blocks):
            if i == self.n_conv:
                x = x.flatten(1)  # feature maps -> one vector per image
            x = block(x)
        if self.n_conv == len(self.blocks):
            x = x.flatten(1)
        return self.head(x)


{_init(spec, net)}

def build_model():
    blocks = {blocks}
    model = Net(blocks, nn.Linear({width}, {part.classes}), {len(part.conv)})
    init_weights(model)
    return model
'''


def _init(spec: Spec, net: ConvNet) -> str:
    m = spec.model
    per_layer, fill = INIT_CODE[m.init]
    acts = [layer.activation for layer in net.layer_specs] + ["linear"]
    values = [ACTIVATIONS[a].gain if per_layer == "gain" else ACTIVATIONS[a].kaiming for a in acts]
    if m.bias_init is not None:
        bias = f"linear.bias.fill_({m.bias_init!r})"
    elif m.init == "default":
        bias = "linear.bias.uniform_(-bound, bound, generator=g)"
    else:
        bias = "linear.bias.zero_()"
    fans = ["fan_out, fan_in = w.shape"] if "fan_" in fill else []
    lines = [
        "w = linear.weight.view(linear.weight.shape[0], -1)  # a conv's (out, in·k·k) matrix",
        *fans,
        *fill.split("\n"),
        bias,
    ]
    loop, table = "for linear in linears:", ""
    if per_layer:
        names = "GAINS" if per_layer == "gain" else "NONLINEARITIES"
        table = f"    # {per_layer} of the activation after each layer: {', '.join(acts)}\n"
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


def _augment(part: CnnPart, input_noise: float) -> tuple[str, list[str], list[str]]:
    """(augmentation code, setup lines, a batch's input lines)."""
    a = part.augment
    code, setup, inputs = "", [], []
    if a.active():
        funcs: list[Callable[..., Any]] = [augment_module.affine, augment_module.augment]
        code = "\n\n".join(inspect.getsource(f) for f in funcs)
        code = f"SHIFT, ROTATE, AUG_NOISE = {a.shift}, {a.rotate!r}, {a.noise!r}\n\n\n{code}"
        setup.append("augment_gen = torch.Generator().manual_seed(AUGMENT_SEED)")
        inputs.append("x = augment(x, SHIFT, ROTATE, AUG_NOISE, augment_gen)")
    if input_noise:
        inputs.append("x = x + torch.randn(x.shape, generator=noise_gen) * INPUT_NOISE")
    return code, setup, inputs


def export_cnn(spec: Spec) -> str:
    """A runnable script that trains this convolutional experiment as the app does."""
    part = spec.cnn
    assert part is not None
    trainer = CnnTrainer(spec)  # the source of truth for the optimizer's groups and flags
    net = trainer.model
    assert isinstance(net, ConvNet)
    t = spec.train
    sched_consts, sched_code = schedule_code(t.schedule.name, t.schedule.params())
    aug_code, setup, inputs = _augment(part, t.input_noise)
    consts = _constants(spec) + f"AUGMENT_SEED = {spec.seed + AUGMENT_SEED}\n"
    dropout = any(c.dropout > 0 for c in part.conv) or any(
        layer.dropout > 0 for layer in spec.model.layers
    )
    batchnorm = any(c.batchnorm for c in part.conv) or any(
        layer.norm == "batch" for layer in spec.model.layers
    )
    imports = "import base64\nimport gzip\n" if part.dataset == "digits" else ""
    parts = [
        _header(spec, part, trainer) + "\n",
        imports,
        "import copy\n" if t.early_stopping else "",
        "import json\nimport math\n\nimport torch\nimport torch.nn.functional as F\n",
        "from torch import nn\n\n",
        "torch.set_num_threads(1)  # as the app: one thread, the same summation order\n\n",
        consts + sched_consts,
        _section("data"),
        _data(part),
        _section("augmentation") + aug_code if aug_code else "",
        _section("model"),
        _model(spec, part, net),
        _section("loss and scores"),
        loss_code(spec.loss_name, spec.task, part.classes, t.label_smoothing, t.huber_delta),
        "\n\n" + scores_code(spec.task),
        "\n\n" + sched_code if sched_code else "",
        _section("training"),
        loop_code(
            spec,
            _optimizer(trainer),
            bool(trainer.extras),
            dropout=dropout,
            batchnorm=batchnorm,
            setup_lines=setup,
            input_lines=inputs,
        ),
    ]
    return "".join(parts)
