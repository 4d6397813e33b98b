"""Import a TensorFlow Playground link (its `#activation=tanh&batchSize=10&...` fragment).

Every key TF Playground writes is either mapped to the spec or reported in the notes (view
settings, its seed, its output unit and loss, its L1 clamping, its batch order); unknown keys
and malformed values raise ValueError naming the key. The result is a validated spec dict.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from pydantic import ValidationError

from app.nn.data.points import split_sizes
from app.nn.spec.base import Limits, error_text
from app.nn.spec.experiment import validate_spec

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")  # TFP's names are ours
DATASETS = {"circle": "circle", "xor": "xor", "gauss": "gauss", "spiral": "spiral"}
REG_DATASETS = {"reg-plane": "plane", "reg-gauss": "multigauss"}
REG_WITHOUT_EQUIVALENT = ("reg-maximum", "reg-argmax")  # in some TFP versions only
# TFP input -> our feature, in TFP's input order
FEATURES = {
    "x": "x1",
    "y": "x2",
    "xSquared": "x1sq",
    "ySquared": "x2sq",
    "xTimesY": "x1x2",
    "sinX": "sin_x1",
    "sinY": "sin_x2",
    "cosX": "cos_x1",
    "cosY": "cos_x2",
}
VIEW_KEYS = ("showTestData", "discretize", "hideText", "collectStats")
SAMPLES = {"classification": 500, "regression": 1200}  # TFP's NUM_SAMPLES_*
TFP_INIT_BOUND, TFP_BIAS = 0.5, 0.1  # TFP: weights Math.random() - 0.5, biases 0.1
DEFAULTS: dict[str, str] = {  # TFP's State defaults
    "activation": "tanh",
    "regularization": "none",
    "batchSize": "10",
    "dataset": "circle",
    "regDataset": "reg-plane",
    "learningRate": "0.03",
    "regularizationRate": "0",
    "noise": "0",
    "networkShape": "4,2",
    "percTrainData": "50",
    "problem": "classification",
    "initZero": "false",
    **{k: "true" if k in ("x", "y") else "false" for k in FEATURES},
    **{k: "false" for k in VIEW_KEYS},
}
KNOWN = (*DEFAULTS, "seed", "tutorial")


def _fail(key: str, value: str, expected: str) -> ValueError:
    return ValueError(f"TF Playground link: {key}={value!r}: expected {expected}")


def _choice(options: tuple[str, ...] | list[str]) -> Callable[[str, str], Any]:
    def parse(key: str, value: str) -> str:
        if value not in options:
            raise _fail(key, value, "one of " + ", ".join(options))
        return value

    return parse


def _number(lo: float, hi: float, integer: bool = False) -> Callable[[str, str], Any]:
    def parse(key: str, value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise _fail(key, value, "a number") from None
        if not lo <= number <= hi or (integer and number != int(number)):
            raise _fail(
                key, value, f"{'a whole number' if integer else 'a number'} in [{lo}, {hi}]"
            )
        return int(number) if integer else number

    return parse


def _bool(key: str, value: str) -> bool:
    if value not in ("true", "false"):
        raise _fail(key, value, "true or false")
    return value == "true"


def _shape(key: str, value: str) -> list[int]:
    if not value.strip():
        return []  # no hidden layers
    try:
        units = [int(u) for u in value.split(",")]
    except ValueError:
        raise _fail(key, value, "comma-separated layer widths like 4,2") from None
    if any(u < 1 for u in units):
        raise _fail(key, value, "layer widths of at least 1")
    return units


PARSERS: dict[str, Callable[[str, str], Any]] = {
    "activation": _choice(ACTIVATIONS),
    "regularization": _choice(("none", "L1", "L2")),
    "batchSize": _number(1, 10_000, integer=True),
    "dataset": _choice(list(DATASETS)),
    "regDataset": _choice([*REG_DATASETS, *REG_WITHOUT_EQUIVALENT]),
    "learningRate": _number(0, 1e6),
    "regularizationRate": _number(0, 1e6),
    "noise": _number(-1e6, 1e6),  # TFP clamps it itself (see _tfp_noise)
    "networkShape": _shape,
    "percTrainData": _number(1, 99),
    "problem": _choice(("classification", "regression")),
    **{k: _bool for k in ("initZero", *FEATURES, *VIEW_KEYS)},
}


def fragment_pairs(url_or_fragment: str) -> dict[str, str]:
    """key -> raw value from a full link, a '#...' fragment or the bare 'a=1&b=2' text."""
    text = url_or_fragment.strip()
    if "#" in text:
        text = text.split("#", 1)[1]
    elif "://" in text:
        raise ValueError("TF Playground link: no '#...' part with the settings in this URL")
    pairs: dict[str, str] = {}
    for item in filter(None, text.split("&")):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"TF Playground link: {item!r} is not key=value")
        if key in pairs:
            raise ValueError(f"TF Playground link: {key} appears twice")
        pairs[key] = unquote(value)
    if not pairs:
        raise ValueError("TF Playground link: no settings found")
    return pairs


def _seed(raw: str | None, notes: list[str]) -> int:
    if raw is None:
        notes.append("no seed in the link (TF Playground would pick a random one): seed 0")
        return 0
    try:
        value = float(raw)
        seed = round(value * 100_000) if 0 <= value < 1 else None  # TFP: toFixed(5)
    except ValueError:
        seed = None
    if seed is None:
        seed = zlib.crc32(raw.encode()) & 0x7FFFFFFF
    notes.append(
        f"seed={raw} seeds TF Playground's JavaScript RNG; here it becomes seed {seed}: "
        f"the same link always gives the same experiment, but not TFP's exact points or weights"
    )
    return seed


def _tfp_noise(noise: float, notes: list[str]) -> float:
    """TFP's page on load (playground.ts): up to its slider's 50 as given; 51-80 widen the
    slider; above 80 it falls back to 50; below 0 to 0."""
    if noise > 80:
        notes.append(f"noise={noise:g} is above TF Playground's 80: it resets it to 50, as here")
        return 50.0
    if noise < 0:
        notes.append(f"noise={noise:g} is below 0: TF Playground uses 0, as here")
        return 0.0
    return noise


def import_tfp(
    url_or_fragment: str, limits: Limits | None = None, epochs: int = 100
) -> tuple[dict[str, Any], list[str]]:
    """(spec dict, notes) for a TF Playground link; ValueError for unknown keys or values."""
    pairs = fragment_pairs(url_or_fragment)
    notes: list[str] = []
    hidden = sorted(k for k in pairs if k.endswith("_hide"))
    unknown = sorted(set(pairs) - set(KNOWN) - set(hidden))
    if unknown:
        raise ValueError(
            f"TF Playground link: unknown key(s) {', '.join(unknown)}; known: {', '.join(KNOWN)}"
        )
    for key in hidden:
        _bool(key, pairs[key])
    blank = sorted(k for k in PARSERS if k != "networkShape" and k in pairs and not pairs[k])
    if blank:
        notes.append(f"empty {', '.join(blank)}: TF Playground's defaults used, as it does")
    # As TFP: a blank value means the default, except networkShape= (no hidden layers).
    raw = {
        k: pairs[k] if pairs.get(k) or (k in pairs and k == "networkShape") else DEFAULTS[k]
        for k in DEFAULTS
    }
    v = {key: parse(key, raw[key]) for key, parse in PARSERS.items()}
    v["noise"] = _tfp_noise(v["noise"], notes)

    problem = v["problem"]
    if problem == "regression":
        if v["regDataset"] in REG_WITHOUT_EQUIVALENT:
            raise ValueError(
                f"TF Playground link: regDataset={v['regDataset']} has no equivalent here; "
                f"available: {', '.join(REG_DATASETS)}"
            )
        dataset = REG_DATASETS[v["regDataset"]]
    else:
        dataset = DATASETS[v["dataset"]]
    features = [ours for tfp, ours in FEATURES.items() if v[tfp]]
    if not features:
        features = ["x1", "x2"]
        notes.append(
            "the link turns every input off (the net could only learn a constant): "
            "x1 and x2 are used instead"
        )
    if v["cosX"] or v["cosY"]:
        notes.append(
            "cosX/cosY are in TFP's link format but not among its current inputs; "
            "used here as cos_x1/cos_x2"
        )
    limits = limits or Limits()
    samples = min(SAMPLES[problem], limits.max_samples)
    notes.append(
        f"{samples} points, as TF Playground generates for {problem}"
        if samples == SAMPLES[problem]
        else f"{samples} points (TF Playground uses {SAMPLES[problem]}; the limit here is lower)"
    )
    notes.append(
        f"noise={v['noise']:g} (TFP's percent slider) -> data.noise {v['noise'] / 100:g}: the "
        f"generator follows TFP's formula, with torch's random numbers"
    )
    notes.append(
        f"percTrainData={v['percTrainData']:g}: train on {v['percTrainData']:g}%, test on the "
        f"rest; TF Playground has no validation split"
    )
    train: dict[str, Any] = {
        "optimizer": {"name": "sgd", "lr": v["learningRate"]},
        "loss": "auto",
        "batch_size": v["batchSize"],
        "epochs": epochs,
    }
    reg, rate = v["regularization"], v["regularizationRate"]
    if reg == "L1":
        train["l1"] = rate
        notes.append(
            f"L1 rate {rate:g} -> train.l1 (penalty l1·Σ|w|, biases free, as in TFP); TFP also "
            f"sets a weight that L1 pushes across zero to 0 and freezes it: not done here"
        )
    elif reg == "L2":
        train["l2"] = rate
        notes.append(f"L2 rate {rate:g} -> train.l2 (penalty l2/2·Σw², gradient l2·w, as TFP's)")
    if problem == "regression" and reg in ("L1", "L2") and rate:
        # TFP's step: lr·(mean data gradient of ½(o−t)²) + lr·rate·reg'(w); ours has the
        # data gradient of (o−t)², twice TFP's: halving lr and doubling the rate gives
        # lr/2·(2·g + 2·rate·reg'(w)) = TFP's step exactly.
        notes.append(
            f"regression with {reg}: our data gradient is twice TFP's (see below), so the "
            f"same lr and rate weigh the penalty half as much; lr {v['learningRate'] / 2:g} "
            f"and train.{reg.lower()} {2 * rate:g} reproduce TFP's steps exactly"
        )
    elif rate:
        notes.append(f"regularizationRate={rate:g} has no effect with regularization=none")
    if problem == "classification":
        notes.append(
            "TFP's output unit is a tanh trained with squared error on ±1 labels; here the "
            "output is a logit trained with binary cross-entropy (loss auto = bce)"
        )
    else:
        notes.append(
            "TFP minimises ½(output − target)² and we minimise (output − target)² (both "
            "averaged over the batch): the same learning rate takes twice TFP's step here"
        )
    model: dict[str, Any] = {
        "layers": [{"units": u, "activation": v["activation"]} for u in v["networkShape"]],
        "init": "zeros" if v["initZero"] else "uniform",
        "bias_init": 0.0 if v["initZero"] else TFP_BIAS,
    }
    if v["initZero"]:
        notes.append("initZero=true: every weight and bias starts at 0, as in TFP")
    else:
        model["init_scale"] = TFP_INIT_BOUND
        notes.append("TFP's init: weights uniform in [-0.5, 0.5], biases 0.1")
    notes.append(
        f"SGD with TFP's batch size {v['batchSize']}; TFP walks the training points in one "
        f"fixed order, here they are reshuffled every epoch"
    )
    n_train = split_sizes(samples, v["percTrainData"] / 100, 0.0)[0]
    left = n_train % v["batchSize"] if v["batchSize"] < n_train else 0
    if left:
        notes.append(
            f"{n_train} training points in batches of {v['batchSize']} leave {left} over each "
            f"epoch: TF Playground carries them into the next epoch's first update (which "
            f"then averages {v['batchSize'] + left} points); here each epoch ends with a "
            f"smaller step of {left}"
        )
    notes.append(f"TF Playground trains until paused; this runs {epochs} epochs (train.epochs)")
    views = [f"{k}={pairs[k]}" for k in (*VIEW_KEYS, "tutorial") if k in pairs]
    if views:
        notes.append(f"view settings with no effect on training, ignored: {', '.join(views)}")
    if hidden:
        notes.append(f"hidden-control settings of TFP's page, ignored: {', '.join(hidden)}")

    spec = {
        "seed": _seed(pairs.get("seed") or None, notes),
        "data": {
            "dataset": dataset,
            "samples": samples,
            "noise": v["noise"] / 100,
            "train_fraction": v["percTrainData"] / 100,
            "val_fraction": 0.0,
            "features": features,
        },
        "model": model,
        "train": train,
    }
    try:
        validate_spec(spec, limits)
    except ValidationError as exc:
        raise ValueError(f"TF Playground link: not possible here: {error_text(exc)}") from None
    return spec, notes
