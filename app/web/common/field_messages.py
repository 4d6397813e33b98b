"""Validation errors as a person reads them: the control's label and a plain sentence.

The API keeps the spec path and the validator's text (`train.optimizer.lr`: "expected a
number, got ''"); the pages show "Learning rate is empty: enter a number." next to the
control and in the summary. `for_page` keeps the path (as `field`) so templates can still
mark the control, and adds `text`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# Labels as the controls show them (templates/partials/_controls.html, _compare_form.html,
# _race_form.html); tests/web/test_field_messages.py checks every control has one.
LABELS = {
    "spec": "The experiment",
    "data": "Data",
    "data.dataset": "Dataset",
    "data.noise": "Noise",
    "data.samples": "Samples",
    "data.train_fraction": "Train share",
    "data.val_fraction": "Validation share",
    "data.features": "Input features",
    "data.points": "Custom points",
    "seed": "Seed",
    "model.layers": "Hidden layers",
    "model.init": "Weight init",
    "model.init_scale": "Init scale",
    "model.bias_init": "Bias init",
    "train.optimizer": "Optimizer",
    "train.optimizer.name": "Optimizer",
    "train.optimizer.lr": "Learning rate",
    "train.schedule": "LR schedule",
    "train.schedule.name": "LR schedule",
    "train.loss": "Loss",
    "train.batch_size": "Batch size",
    "train.epochs": "Epochs",
    "train.until_paused": "Train until paused",
    "train.l1": "L1",
    "train.l2": "L2",
    "train.weight_decay": "Weight decay",
    "train.input_noise": "Input noise",
    "train.label_smoothing": "Label smoothing",
    "train.huber_delta": "Huber delta",
    "train.grad_clip": "Gradient clipping",
    "train.grad_clip.mode": "Gradient clipping mode",
    "train.grad_clip.max": "Gradient clipping max",
    "train.early_stopping": "Early stopping",
    "train.early_stopping.patience": "Patience (epochs)",
    "train.early_stopping.min_delta": "Early stopping min delta",
    "stream.grid_size": "Boundary grid",
    "stream.eval_every": "Evaluate every",
    "stream.neuron_grids": "Per-neuron pictures",
    "stream.pace": "Speed",
    "family": "Model family",
    # the recurrent family (templates/partials/_family_rnn.html)
    "rnn.dataset": "Task",
    "rnn.length": "Length T",
    "rnn.samples": "Sequences",
    "rnn.noise": "Noise",
    "rnn.cell": "Cell",
    "rnn.hidden": "Hidden units",
    "rnn.layers": "Recurrent layers",
    "rnn.dropout": "Dropout",
    "rnn.forget_bias": "Forget-gate bias",
    "rnn.layer_norm": "LayerNorm",
    # the optimizer race
    "function": "Test function",
    "steps": "Steps",
    "start": "Start point",
    "racers": "Racers",
    "target": "Target",
    # comparisons
    "members": "Members",
    "target_loss": "Target loss",
}
LAYER_PARTS = {
    "units": "Units",
    "activation": "Activation",
    "norm": "Norm",
    "dropout": "Dropout",
    "residual": "Residual",
}
MEMBER_PARTS = {  # a comparison member's fields, relative to it
    "label": "Label",
    "optimizer": "Optimizer",
    "optimizer.name": "Optimizer",
    "optimizer.lr": "Learning rate",
    "schedule": "LR schedule",
    "schedule.name": "LR schedule",
    "batch_size": "Batch size",
    "l1": "L1",
    "l2": "L2",
    "weight_decay": "Weight decay",
}


def label_of(field: str) -> str:
    """The label of the control a spec path belongs to (a readable fallback otherwise)."""
    if field in LABELS:
        return LABELS[field]
    parts = field.split(".")
    if field.startswith("model.layers.") and len(parts) >= 3 and parts[2].isdigit():
        layer = f"layer h{int(parts[2]) + 1}"
        rest = ".".join(parts[3:])
        return f"{LAYER_PARTS.get(rest, rest or 'Settings')} of {layer}"
    if parts[0] == "base" and len(parts) > 1:
        return label_of(".".join(parts[1:]))
    if parts[0] in ("members", "racers") and len(parts) >= 2 and parts[1].isdigit():
        who = f"{'Member' if parts[0] == 'members' else 'Racer'} {int(parts[1]) + 1}"
        rest = ".".join(parts[2:])
        if not rest:
            return who
        if parts[0] == "racers":  # a racer is an optimizer: its fields are lr, beta1, ...
            inner = "Learning rate" if rest == "lr" else "Optimizer" if rest == "name" else rest
        else:
            inner = MEMBER_PARTS.get(rest) or _param_label(rest) or label_of(rest)
        return f"{who}: {inner}"
    return _param_label(field) or parts[-1].replace("_", " ").capitalize()


def _param_label(field: str) -> str:
    """Optimizer and schedule parameters are labelled with their own names (beta1, gamma)."""
    for prefix, what in (("train.optimizer.", "optimizer"), ("train.schedule.", "LR schedule")):
        if field.startswith(prefix) and field.count(".") == 2:
            return f"{field[len(prefix) :]} ({what})"
    for prefix, what in (("optimizer.", "optimizer"), ("schedule.", "LR schedule")):
        if field.startswith(prefix) and field.count(".") == 1:
            return f"{field[len(prefix) :]} ({what})"
    return ""


_BOUND = {
    "less than or equal to": "at most",
    "greater than or equal to": "at least",
    "greater than": "more than",
    "less than": "less than",
}
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"expected a (?:finite )?number, got ''$"), "{label} is empty: enter a number."),
    (re.compile(r"expected a (?:finite )?number, got (.+)$"), "{label} must be a number, not {0}."),
    (
        re.compile(r"(.+) is out of range \[(.+), (.+)\]$"),
        "{label} must be between {1} and {2} (it is {0}).",
    ),
    (
        re.compile(r"Input should be a valid integer, got a number with a fractional part"),
        "{label} must be a whole number.",
    ),
    (re.compile(r"Input should be a valid integer"), "{label} must be a whole number."),
    (re.compile(r"Input should be a valid number"), "{label} must be a number."),
    (re.compile(r"Input should be a finite number"), "{label} must be a finite number."),
    (re.compile(r"Input should be a valid boolean"), "{label} must be on or off."),
    (
        re.compile(
            r"Input should be (less than or equal to|greater than or equal to|"
            r"greater than|less than) (.+)$"
        ),
        "{label} must be {bound} {1}.",
    ),
    (re.compile(r"Input should be (.+)$"), "{label} must be {0}."),
    (re.compile(r"Field required"), "{label} is missing."),
    (re.compile(r"Extra inputs are not permitted"), "{label} is not a setting here."),
    (
        re.compile(r"String should have at most (\d+) characters?"),
        "{label} is too long (at most {0} characters).",
    ),
    (
        re.compile(r"List should have at (most|least) (\d+) items?"),
        "{label} needs at {0} {1} entries.",
    ),
]


def plain(field: str, message: str) -> str:
    """One sentence naming the control: "Noise must be at most 1." """
    label = label_of(field)
    for pattern, template in PATTERNS:
        found = pattern.match(message)
        if found:
            groups = found.groups()
            bound = _BOUND.get(groups[0], "") if groups else ""
            return template.format(*groups, label=label, bound=bound)
    text = message.rstrip(".")
    return f"{label}: {text[:1].lower() + text[1:]}." if text else f"{label} is not valid."


def for_page(errors: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """The API's [{field, message}] with `label` and `text` (the sentence) added."""
    return [
        {**e, "label": label_of(e["field"]), "text": plain(e["field"], e["message"])}
        for e in errors
    ]


def summary(errors: Iterable[Mapping[str, str]]) -> str:
    """All of them in one line (a notice about a link that could not be opened)."""
    return " ".join(e["text"] for e in for_page(errors))
