"""5 backprop: the explorer's gradients are dL/dz x a_prev edge by edge and equal autograd's;
sigmoid slopes are at most 0.25; zero init gives a layer's units identical gradients."""

import itertools
from typing import Any

import torch
import torch.nn.functional as F

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.registry import LESSONS
from app.nn.choices.layers import ACTIVATIONS
from app.nn.choices.losses import loss_function
from app.nn.explain import ExplainSpec, explain, symmetry

CLAIMS = (
    Claim("edge_is_product", 0, "every dL/dW = Σ_batch dL/dz x a_prev (to 1e-12)"),
    Claim("equals_autograd", 1, "every z, a, dL/da, dL/dz, dL/dW, dL/db within 1e-6 of autograd"),
    Claim("sigmoid_quarter", 2, "every da/dz of the sigmoid layers <= 0.25"),
    Claim("zero_init_identical", 3, "zero init: units' gradient rows identical in every layer"),
)


def autograd_gaps(spec: ExplainSpec) -> tuple[float, float]:
    """(largest |dL/dW - dL/dz x a_prev| over all edges, largest relative gap to autograd)."""
    e = explain(spec)
    inputs = [e.x, *e.now.a[:-1]]
    product = max(
        abs(float(dw[j, i] - (dz[:, j] * a[:, i]).sum()))
        for dw, dz, a in zip(e.now.d_w, e.now.d_z, inputs, strict=True)
        for j, i in itertools.product(range(dw.shape[0]), range(dw.shape[1]))
    )
    make = ACTIVATIONS[spec.activation].make
    assert make is not None
    act = make()
    ws = [w.clone().requires_grad_() for w in e.weights]
    bs = [b.clone().requires_grad_() for b in e.biases]
    a, mine, theirs = e.x, [], []
    for layer, (w, b) in enumerate(zip(ws[:-1], bs[:-1], strict=True)):
        z = F.linear(a, w, b)
        a = act(z)
        for t in (z, a):
            t.retain_grad()
        theirs += [z, a]
        mine += [e.now.z[layer], e.now.a[layer]]
    out = F.linear(a, ws[-1], bs[-1])
    out.retain_grad()
    loss_function(e.loss_name, e.task)(out, e.y, 0.0, 1.0).backward()
    pairs = list(zip(mine, theirs, strict=True))
    pairs += [(e.now.d_z[-1], out.grad)]
    pairs += list(zip(e.now.d_a, [t.grad for t in theirs[1::2]], strict=True))
    pairs += list(zip(e.now.d_z[:-1], [t.grad for t in theirs[0::2]], strict=True))
    pairs += list(zip(e.now.d_w, [w.grad for w in ws], strict=True))
    pairs += list(zip(e.now.d_b, [b.grad for b in bs], strict=True))
    gap = max(
        float(((m - t.detach()).abs() / (t.detach().abs() + 1e-12)).max())
        for m, t in pairs
        if t is not None
    )
    return product, gap


def measure(seed: int | None = None) -> dict[str, Any]:
    base = dict(LESSONS["backprop"].explore or {})
    spec = ExplainSpec(**base, seed=seed or 0)
    four = spec.model_copy(update={"batch": 4})
    product, gap = autograd_gaps(spec)
    product4, gap4 = autograd_gaps(four)
    slopes = explain(four).now.slope
    # One point: over a balanced XOR batch the output gradients of a zero net cancel to 0,
    # which would make "identical" trivially true.
    zero = explain(spec.model_copy(update={"init": "zeros", "hidden": [3, 3]}))
    return {
        "product": max(product, product4),
        "gap": max(gap, gap4),
        "max_slope": max(float(s.max()) for s in slopes),
        "zero_symmetry": max(symmetry(zero)),
        "nonzero": float(torch.cat([g.reshape(-1) for g in zero.now.d_w]).abs().max()),
    }


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    return {
        "edge_is_product": outcome(m["product"] < 1e-12, "{:.1e}", m["product"]),
        "equals_autograd": outcome(m["gap"] < 1e-6, "relative gap {:.1e}", m["gap"]),
        "sigmoid_quarter": outcome(m["max_slope"] <= 0.25, "{:.4f}", m["max_slope"]),
        "zero_init_identical": outcome(
            m["zero_symmetry"] == 0.0 and m["nonzero"] > 0,
            "max row difference {:.1e}",
            m["zero_symmetry"],
        ),
    }
