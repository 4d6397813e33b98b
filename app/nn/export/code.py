"""Code templates for the exported script: features, losses, scores, lr schedules.

Each template repeats the engine's arithmetic operation for operation (same association,
same constants), so the script's numbers are the app's, not merely close; the export tests
check every template against the engine's own functions.
"""

from __future__ import annotations

from typing import Any

# featurize(): the expression of each input feature in terms of a = x1, b = x2
FEATURE_CODE = {
    "x1": "a",
    "x2": "b",
    "x1sq": "a * a",
    "x2sq": "b * b",
    "x1x2": "a * b",
    "sin_x1": "torch.sin(a)",
    "sin_x2": "torch.sin(b)",
    "cos_x1": "torch.cos(a)",
    "cos_x2": "torch.cos(b)",
}


def loss_code(name: str, task: str, classes: int, smoothing: float, delta: float) -> str:
    """`def loss_fn(out, y)` for a resolved loss key on a task's output head."""
    if name == "bce":
        target = f"y * (1 - {smoothing!r}) + 0.5 * {smoothing!r}" if smoothing else "y"
        body = f"return F.binary_cross_entropy_with_logits(out[:, 0], {target})"
        doc = "Binary cross-entropy on the one logit (the sigmoid is inside the loss)."
    elif name == "ce":
        extra = f", label_smoothing={smoothing!r}" if smoothing else ""
        body = f"return F.cross_entropy(out, y.long(){extra})"
        doc = "Softmax cross-entropy on the class logits."
    elif name == "mse" and task == "binary":
        body = "return F.mse_loss(torch.sigmoid(out[:, 0]), y)"
        doc = "Squared error of the predicted probability."
    elif name == "mse" and task == "multiclass":
        body = (
            f"target = F.one_hot(y.long(), {classes}).to(out.dtype)\n"
            f"    return F.mse_loss(torch.softmax(out, 1), target)"
        )
        doc = "Squared error of the predicted class probabilities against one-hot targets."
    elif name == "mse":
        body = "return F.mse_loss(out[:, 0], y)"
        doc = "Mean squared error."
    elif name == "huber":
        body = f"return F.huber_loss(out[:, 0], y, delta={delta!r})"
        doc = "Huber: quadratic near the target, linear beyond delta."
    elif name == "l1":
        body = "return F.l1_loss(out[:, 0], y)"
        doc = "Mean absolute error."
    else:
        raise NotImplementedError(f"export: no code for the loss {name!r}")
    return f'def loss_fn(out, y):\n    """{doc}"""\n    {body}\n'


def scores_code(task: str) -> str:
    """`def scores(out, y)`: accuracy, or R² and RMSE, as the app computes them."""
    if task == "regression":
        return '''def scores(out, y):
    """R² and RMSE of the predictions."""
    pred = out[:, 0]
    sse = float(((pred - y) ** 2).sum())
    sst = float(((y - y.mean()) ** 2).sum())
    return {"r2": 1 - sse / sst if sst > 0 else 0.0, "rmse": math.sqrt(sse / len(y))}
'''
    hit = "(out[:, 0] > 0) == (y > 0.5)" if task == "binary" else "out.argmax(1) == y.long()"
    return f'''def scores(out, y):
    """Accuracy: the share of points whose predicted class is right."""
    return {{"acc": float(({hit}).float().mean())}}
'''


_HALF_COSINE = '''def half_cosine(progress):
    """1 -> 0 along half a cosine as progress goes 0 -> 1."""
    return 0.5 * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))


'''


def schedule_code(name: str, p: dict[str, Any]) -> tuple[str, str]:
    """(constants, code) defining `lr_at(step)` ("" for constant and reduce-on-plateau)."""
    if name == "step":
        consts = f"GAMMA = {p['gamma']!r}\nSTEP_EPOCHS = {p['step_epochs']!r}\n"
        return (
            consts,
            '''def lr_at(step):
    """Step decay: the lr is multiplied by GAMMA every STEP_EPOCHS epochs."""
    epoch = step // STEPS_PER_EPOCH
    return LR * float(GAMMA ** (epoch // STEP_EPOCHS))
''',
        )
    if name == "exponential":
        return (
            f"GAMMA = {p['gamma']!r}\n",
            '''def lr_at(step):
    """Exponential decay: the lr is multiplied by GAMMA every epoch."""
    epoch = step // STEPS_PER_EPOCH
    return LR * float(GAMMA ** epoch)
''',
        )
    if name == "cosine":
        consts = f"MIN_FACTOR = {p['min_factor']!r}\n"
        return (
            consts,
            _HALF_COSINE
            + '''def lr_at(step):
    """Cosine decay from LR to MIN_FACTOR * LR over the whole run."""
    progress = step / max(1, TOTAL_STEPS - 1)
    return LR * (MIN_FACTOR + (1 - MIN_FACTOR) * half_cosine(progress))
''',
        )
    if name == "warmup_cosine":
        consts = (
            f"MIN_FACTOR = {p['min_factor']!r}\n"
            f"WARMUP_STEPS = {p['warmup_epochs']!r} * STEPS_PER_EPOCH\n"
        )
        return (
            consts,
            _HALF_COSINE
            + '''def lr_at(step):
    """Linear warm-up from ~0 to LR over WARMUP_STEPS, then cosine decay to MIN_FACTOR * LR."""
    if step < WARMUP_STEPS:
        return LR * ((step + 1) / WARMUP_STEPS)
    progress = (step - WARMUP_STEPS) / max(1, TOTAL_STEPS - WARMUP_STEPS - 1)
    return LR * (MIN_FACTOR + (1 - MIN_FACTOR) * half_cosine(progress))
''',
        )
    if name == "one_cycle":
        consts = (
            f"START = 1 / {p['div_factor']!r}  # first lr, as a fraction of LR\n"
            f"END = START / {p['final_div_factor']!r}  # last lr, as a fraction of LR\n"
            f"PEAK = max(1.0, {p['pct_start']!r} * TOTAL_STEPS - 1)  # the step at LR\n"
        )
        return (
            consts,
            _HALF_COSINE
            + '''def lr_at(step):
    """One cycle: up from START * LR to LR by step PEAK, then down to END * LR."""
    if step <= PEAK:
        return LR * (START + (1 - START) * (1 - half_cosine(step / PEAK)))
    progress = (step - PEAK) / max(1.0, TOTAL_STEPS - 1 - PEAK)
    return LR * (END + (1 - END) * half_cosine(progress))
''',
        )
    if name == "reduce_on_plateau":
        consts = (
            f"PLATEAU_FACTOR = {p['factor']!r}\nPLATEAU_PATIENCE = {p['patience']!r}\n"
            f"PLATEAU_MIN_FACTOR = {p['min_factor']!r}\n"
        )
        return (
            consts,
            '''class Plateau:
    """Reduce on plateau: multiply the lr by PLATEAU_FACTOR when the monitored loss has not
    improved (by a relative 1e-4) for more than PLATEAU_PATIENCE epochs."""

    def __init__(self):
        self.multiplier, self.best, self.waited = 1.0, math.inf, 0

    def epoch_end(self, metric):
        if not math.isfinite(metric):
            return
        if metric < self.best * (1 - 1e-4):
            self.best, self.waited = metric, 0
            return
        self.waited += 1
        if self.waited > PLATEAU_PATIENCE:
            self.multiplier = max(PLATEAU_MIN_FACTOR, self.multiplier * PLATEAU_FACTOR)
            self.waited = 0
''',
        )
    if name == "constant":
        return "", ""
    raise NotImplementedError(f"export: no code for the schedule {name!r}")


INIT_CODE = {
    # The weight fill of each init scheme; `w` is the weight, `g` the init generator.
    "zeros": ("", "w.zero_()"),
    "constant": ("", "w.fill_(INIT_SCALE)"),
    "normal": ("", "w.normal_(0, INIT_SCALE, generator=g)"),
    "uniform": ("", "w.uniform_(-INIT_SCALE, INIT_SCALE, generator=g)"),
    "xavier_uniform": (
        "gain",
        "bound = gain * math.sqrt(6.0 / (fan_in + fan_out))\n"
        "w.uniform_(-bound, bound, generator=g)",
    ),
    "xavier_normal": (
        "gain",
        "bound = gain * math.sqrt(6.0 / (fan_in + fan_out))\n"
        "w.normal_(0, bound / math.sqrt(3), generator=g)",
    ),
    "kaiming_uniform": (
        "nonlinearity",
        "std = nn.init.calculate_gain(nonlinearity, 0.01) / math.sqrt(fan_in)\n"
        "w.uniform_(-std * math.sqrt(3), std * math.sqrt(3), generator=g)",
    ),
    "kaiming_normal": (
        "nonlinearity",
        "std = nn.init.calculate_gain(nonlinearity, 0.01) / math.sqrt(fan_in)\n"
        "w.normal_(0, std, generator=g)",
    ),
    "orthogonal": ("gain", "nn.init.orthogonal_(w, gain=gain, generator=g)"),
    "lecun_normal": ("", "w.normal_(0, 1 / math.sqrt(fan_in), generator=g)"),
    "default": ("", "bound = 1 / math.sqrt(fan_in)\nw.uniform_(-bound, bound, generator=g)"),
}
