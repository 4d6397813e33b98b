"""Training-health diagnostics computed on demand, beyond the per-step scalars of train.py.

`diagnostics_frame(trainer)` is the slower, less frequent part of the diagnostics panel, for
every model family (each trainer answers the hook of app/nn/training/probing.py): per weight
layer activation and weight-gradient histograms with percentile bands, dead and saturated
fractions, the symmetry meter, gradient flags; per other activation site (an RNN's gates)
and per attention head their health; and the loss at init against chance.
The small functions below it are the measurements lessons need (sparsity, loss jitter,
softmax temperature, sign agreement of updates, dropout's train/eval behaviour).

Everything is measured by one eval-mode probe (app/nn/diagnose/probe.py), so a frame never changes
the run it looks at.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from app.nn.data.points import featurize
from app.nn.diagnose.probe import probe
from app.nn.measure.activity import attention_health, dead_fraction, saturated_fraction
from app.nn.measure.metrics import symmetry
from app.nn.models.mlp import Network
from app.nn.training.probing import Site

if TYPE_CHECKING:  # the trainer is only a parameter type here
    from app.nn.training.trainer import Trainer

Tensor = torch.Tensor
PERCENTILES = (5, 25, 50, 75, 95)
# Sorting for percentiles costs ~25 ms per 250k values (a conv layer's maps over 512
# images): beyond this many, bands come from an evenly strided subsample. A dense layer
# (512 points x at most 128 units) never reaches it.
BAND_VALUES = 65_536
UPDATE_RATIO_REF = 1e-3  # a healthy step changes a layer's weights by about 0.1 %
UPDATE_RATIO_BAND = (1e-4, 1e-2)  # outside: learning too slowly / too violently
VANISH_RATIO = 1e-2  # a hidden layer's grad norm below 1 % of the output layer's
EXPLODE_RATIO = 1e2  # ... or above 100x it
EXPLODE_NORM = 1e3  # any layer's grad norm beyond this, whatever the ratio
DEAD_FLAG = 0.5  # a row with half its units dead (or more) is flagged
SATURATED_FLAG = 0.5  # ... or half its activations on a flat end (the bar turns red there too)
INIT_LOSS_TOLERANCE = 1.5  # loss at init above 1.5x chance = over-confident outputs
NEAR_ZERO = 1e-2  # |w| at or below this counts towards a layer's sparsity
FRAME_DROPOUT_MASKS = 16  # enough for the expectation readout, cheap enough for a frame


# ---- distributions ----------------------------------------------------------------------
def bands(values: Tensor) -> dict[str, float]:
    """Percentiles p5, p25, p50, p75, p95 of the finite values (NaN if there are none)."""
    flat = values.detach().reshape(-1)
    if flat.numel() > BAND_VALUES:  # a conv layer's maps: percentiles of an even subsample
        flat = flat[:: math.ceil(flat.numel() / BAND_VALUES)]
    flat = flat.double()
    flat = flat[torch.isfinite(flat)]
    if flat.numel() == 0:
        return {f"p{q}": math.nan for q in PERCENTILES}
    qs = torch.tensor([q / 100 for q in PERCENTILES], dtype=torch.float64)
    return dict(zip((f"p{q}" for q in PERCENTILES), torch.quantile(flat, qs).tolist(), strict=True))


def histogram(values: Tensor, bins: int = 24) -> dict[str, Any]:
    """Equal-width bins over [min, max] of the finite values; non-finite ones are counted
    apart. A constant tensor gets one unit-wide range around its value."""
    flat = values.detach().reshape(-1).double()
    finite = flat[torch.isfinite(flat)]
    nonfinite = int(flat.numel() - finite.numel())
    if finite.numel() == 0:
        return {"edges": [], "counts": [], "nonfinite": nonfinite}
    lo, hi = float(finite.min()), float(finite.max())
    if hi - lo < 1e-12 * max(1.0, abs(lo)):
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.histc(finite, bins=bins, min=lo, max=hi)
    edges = torch.linspace(lo, hi, bins + 1, dtype=torch.float64)
    return {
        "edges": edges.tolist(),
        "counts": [int(c) for c in counts.tolist()],
        "nonfinite": nonfinite,
    }


def distribution(values: Tensor, bins: int = 24) -> dict[str, Any]:
    """Histogram, percentile bands, mean and std of one tensor."""
    flat = values.detach().reshape(-1).double()
    finite = flat[torch.isfinite(flat)]
    mean = float(finite.mean()) if finite.numel() else math.nan
    std = float(finite.std(unbiased=False)) if finite.numel() else math.nan
    return {**histogram(values, bins), "bands": bands(values), "mean": mean, "std": std}


# ---- flags --------------------------------------------------------------------------------
def gradient_flags(
    grad_norms: Sequence[float],
    vanish: float = VANISH_RATIO,
    explode: float = EXPLODE_RATIO,
    explode_norm: float = EXPLODE_NORM,
) -> list[str]:
    """One flag per hidden layer from per-layer weight-gradient norms (hidden layers first,
    the output layer last, as in a step record's `grad_w`): nonfinite | exploding |
    vanishing | ok. Each hidden layer is compared with the output layer, whose gradient
    is the signal that backpropagation starts from."""
    *hidden, out = (float(g) for g in grad_norms)
    flags = []
    for g in hidden:
        if not math.isfinite(g) or not math.isfinite(out):
            flags.append("nonfinite")
        elif g > explode_norm or (out > 0 and g > explode * out):
            flags.append("exploding")
        elif g < vanish * out or (out == 0 and g == 0):
            flags.append("vanishing")
        else:
            flags.append("ok")
    return flags


def update_ratio_flags(
    ratios: Sequence[float], band: tuple[float, float] = UPDATE_RATIO_BAND
) -> list[str]:
    """low | ok | high per layer, against the band around the 1e-3 reference."""
    lo, hi = band
    return ["high" if r > hi else "low" if r < lo else "ok" for r in ratios]


def expected_init_loss(task: str, classes: int) -> float | None:
    """Cross-entropy of a uniform prediction, -log(1/classes); None for regression."""
    if task == "regression":
        return None
    return math.log(max(2, classes))


def loss_at_init(initial: float | None, task: str, classes: int) -> dict[str, Any]:
    """The first loss against chance: far above it means over-confident initial outputs."""
    expected = expected_init_loss(task, classes)
    if expected is None or initial is None:
        return {"actual": initial, "expected": expected, "ratio": None, "ok": None}
    ratio = initial / expected if math.isfinite(initial) else math.inf
    return {
        "actual": initial,
        "expected": expected,
        "ratio": ratio,
        "ok": ratio <= INIT_LOSS_TOLERANCE,
    }


# ---- lesson measurements -----------------------------------------------------------------
def sparsity(weights: Sequence[Tensor], tol: float = 1e-3) -> float:
    """Share of weights with |w| <= tol across the given tensors."""
    flat = torch.cat([w.detach().reshape(-1) for w in weights])
    return float((flat.abs() <= tol).double().mean())


def loss_jitter(losses: Sequence[float]) -> float:
    """Std of the step-to-step change of a loss curve: how noisy the descent is."""
    t = torch.tensor(list(losses), dtype=torch.float64)
    if t.numel() < 3:
        return 0.0
    return float(t.diff().std(unbiased=False))


def softmax_temperature(logits: Tensor, temperature: float) -> tuple[Tensor, Tensor]:
    """softmax(logits / T) over the last axis and its entropy in nats (0 .. log K)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    logp = torch.log_softmax(logits.double() / temperature, dim=-1)
    probs = logp.exp()
    return probs, -(probs * logp).sum(-1)


@torch.no_grad()
def temperature_view(
    trainer: Trainer, x1: float, x2: float, temperatures: Sequence[float] = (0.3, 1.0, 3.0)
) -> list[dict[str, Any]]:
    """The predicted class distribution at one input point under each temperature.

    A binary head's logit z is read as the two logits [0, z] (so T=1 gives sigmoid(z))."""
    if trainer.task == "regression":
        raise ValueError("temperature applies to classification runs only")
    model = trainer.model
    was_training = model.training
    model.eval()
    out = model(featurize(torch.tensor([[x1, x2]]), trainer.data.features))[0]
    model.train(was_training)
    logits = torch.stack([torch.zeros_like(out[0]), out[0]]) if out.numel() == 1 else out
    views = []
    for t in temperatures:
        probs, entropy = softmax_temperature(logits, t)
        views.append(
            {
                "temperature": t,
                "probs": probs.tolist(),
                "entropy": float(entropy),
                "max_entropy": math.log(logits.numel()),
            }
        )
    return views


def sign_agreement(delta: Tensor) -> float:
    """How often a unit's incoming weight changes share one sign, averaged over units.

    `delta` is (units, inputs), e.g. the update of one Linear weight in one step. Per unit:
    |Σ sign| / #non-zero, so 1.0 = every weight moved the same way (the zig-zag of
    non-zero-centred inputs); about sqrt(2/(pi n)) for random signs. Units that did not move
    are skipped; NaN when none moved."""
    signs = torch.sign(delta.detach())
    moved = signs.abs().sum(1)
    keep = moved > 0
    if not bool(keep.any()):
        return math.nan
    return float((signs.sum(1).abs()[keep] / moved[keep]).mean())


def input_sign_agreement(inputs: Tensor, out_grads: Tensor) -> float:
    """Mean sign_agreement of each point's own gradient for one Linear, from its inputs
    (N, in) and the loss gradient at its outputs (N, out): what batch-size-1 SGD applies.

    A point's gradient for unit j is out_grads[n, j] x inputs[n], so its agreement is
    |Σ sign(inputs[n])| / #non-zero inputs whenever out_grads[n, j] != 0: it depends only on
    the signs of the inputs, which is why all-positive (sigmoid) inputs always give 1.0."""
    signs = torch.sign(inputs.detach().flatten(1))  # a conv's input image as one row
    nonzero = signs.abs().sum(1)
    units = (out_grads.detach().flatten(1) != 0).sum(1).double()  # units that receive an update
    keep = (nonzero > 0) & (units > 0)
    if not bool(keep.any()):
        return math.nan
    score = signs.sum(1).abs()[keep] / nonzero[keep]
    return float((score.double() * units[keep]).sum() / units[keep].sum())


def per_sample_sign_agreement(trainer: Trainer, layer: int, max_points: int = 256) -> float:
    """input_sign_agreement of Linear `layer` (0 = first) on up to max_points training points."""
    p = probe(trainer, max_points)
    return input_sign_agreement(p.inputs[layer], p.out_grads[layer])


def dropout_behaviour(net: Network, x: Tensor, masks: int = 200, seed: int = 0) -> dict[str, Any]:
    """Train vs eval mode on the same inputs, and inverted dropout's expectation.

    output_diff: mean |train-mode output - eval-mode output| (one mask), relative to the
    eval-mode output's mean magnitude. Per layer with dropout p: the kept fraction of
    activations (≈ 1-p) and mean over `masks` masks of the dropped, rescaled activations
    divided by the plain activations (≈ 1: scaling kept units by 1/(1-p) preserves the
    expectation, so eval mode needs no rescaling)."""
    was_training = net.training
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(seed)  # masks are drawn from a forked RNG: the run's is untouched
        net.eval()
        acts, out_eval = net.forward_trace(x)
        net.train()
        for module in net.modules():  # only dropout differs: keep BatchNorm in eval mode
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.eval()
        out_train = net(x)
        layers = []
        for block, a in zip(net.blocks, acts, strict=True):
            drop = block.drop
            if not isinstance(drop, torch.nn.Dropout):
                continue
            samples = torch.stack([drop(a) for _ in range(masks)])
            kept = float((samples != 0).double().mean() / (a != 0).double().mean())
            ratio = float(samples.mean(0).sum() / a.sum()) if float(a.sum()) != 0 else math.nan
            layers.append({"p": drop.p, "kept_fraction": kept, "expectation_ratio": ratio})
    net.train(was_training)
    scale = float(out_eval.abs().mean()) or 1.0
    return {"output_diff": float((out_train - out_eval).abs().mean()) / scale, "layers": layers}


# ---- the panel frame ----------------------------------------------------------------------
def diagnostics_frame(
    trainer: Trainer,
    max_points: int = 512,
    bins: int = 24,
    step_record: dict[str, Any] | None = None,
    batch: tuple[Tensor, Tensor] | None = None,
) -> dict[str, Any]:
    """The panel's slow part, JSON-ready, from one probe of `batch` (default: the first
    max_points training points): a row per weight layer but the output one (its gradient,
    flags, and the activations after it when the trace has a site of its name), a row per
    other activation site (an RNN's hidden states and gates), attention spread per head.

    Pass the latest step record to attach its update/weight ratios with their flags."""
    p = probe(trainer, max_points, batch)
    weights, weight_grads = trainer.weights, p.weight_grads
    grad_norms = [float(g.norm()) for g in weight_grads]
    flags = gradient_flags(grad_norms)
    names = trainer.probe_names()
    ratios = step_record["update_ratio"] if step_record else None
    ratio_flags = update_ratio_flags(ratios) if ratios else None
    out_norm = grad_norms[-1]
    layers = []
    for i, name in enumerate(names[:-1]):
        site = p.sites.get(name)
        hooked = i < len(p.inputs)
        layers.append(
            {
                "name": name,
                "units": int(site.values.shape[1] if site else weights[i].shape[0]),
                **site_health(site, bins),
                "symmetry": symmetry(weights[i]),
                "sparsity": sparsity([weights[i]], NEAR_ZERO),
                "gradient": distribution(weight_grads[i], bins),
                "grad_norm": grad_norms[i],
                "grad_ratio": grad_norms[i] / out_norm if out_norm > 0 else None,
                "grad_flag": flags[i],
                "sign_agreement": (
                    input_sign_agreement(p.inputs[i], p.out_grads[i]) if hooked else None
                ),
                "update_ratio": ratios[i] if ratios else None,
                "update_flag": ratio_flags[i] if ratio_flags else None,
            }
        )
    # Sites that are no weight layer's output: rows of their own.
    activations = [
        {"name": name, "units": int(site.values.shape[1]), **site_health(site, bins)}
        for name, site in p.sites.items()
        if name not in names
    ]
    attention = [
        {"name": f"b{b}.h{row['head']}", "block": b, **row}
        for b, maps in enumerate(p.attention, 1)
        for row in attention_health(maps, p.attention_max_entropy)
    ]
    init = loss_at_init(trainer.initial_loss, trainer.task, trainer.data.info.classes)
    return {
        "kind": "diagnostics",
        "step": trainer.step,
        "epoch": trainer.epoch,
        "loss": p.loss,
        "layers": layers,
        "activations": activations,
        "attention": attention,
        "output": {"name": names[-1], "grad_norm": out_norm},
        "loss_at_init": init,
        "dropout": (
            dropout_behaviour(trainer.model, p.inputs[0], FRAME_DROPOUT_MASKS)
            if p.inputs and any(layer.dropout > 0 for layer in trainer.spec.model.layers)
            else None
        ),
        "flags": frame_flags(layers, activations, init),
        "reference": {
            "update_ratio": UPDATE_RATIO_REF,
            "update_ratio_band": list(UPDATE_RATIO_BAND),
            "vanish_ratio": VANISH_RATIO,
            "explode_ratio": EXPLODE_RATIO,
            "explode_norm": EXPLODE_NORM,
            "dead_flag": DEAD_FLAG,
            "saturated_flag": SATURATED_FLAG,
        },
    }


def site_health(site: Site | None, bins: int) -> dict[str, Any]:
    """Dead and saturated fractions and the distribution of one site's activations (None
    for a weight layer the trace has no activations of)."""
    if site is None:
        return {"function": None, "dead": None, "saturated": None, "activation": None}
    return {
        "function": site.activation,
        "dead": dead_fraction(site.values),
        "saturated": saturated_fraction(site.values, site.activation),
        "activation": distribution(site.values, bins),
    }


def frame_flags(
    layers: list[dict[str, Any]], activations: list[dict[str, Any]], init: dict[str, Any]
) -> dict[str, Any]:
    """The layers whose gradients vanish or explode, the rows mostly dead or saturated, and
    a sentence for each."""
    rows = layers + activations
    vanishing = [r["name"] for r in layers if r["grad_flag"] == "vanishing"]
    exploding = [r["name"] for r in layers if r["grad_flag"] in ("exploding", "nonfinite")]
    dead = [r["name"] for r in rows if (r["dead"] or 0) >= DEAD_FLAG]
    saturated = [r["name"] for r in rows if (r["saturated"] or 0) >= SATURATED_FLAG]
    messages = [f"{r['name']}: gradient {r['grad_flag']}" for r in layers if r["grad_flag"] != "ok"]
    messages += [f"{name}: most units dead" for name in dead]
    messages += [f"{name}: mostly saturated (its gradient nearly vanishes)" for name in saturated]
    if init["ok"] is False:
        messages.append("loss at init is far above chance: the initial outputs are over-confident")
    return {
        "vanishing": vanishing,
        "exploding": exploding,
        "dead": dead,
        "saturated": saturated,
        "messages": messages,
    }
