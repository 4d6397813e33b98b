"""14 l1-vs-l2: with the same coefficient, L1 leaves far more near-zero weights than L2."""

from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson
from app.nn.diagnose.diagnostics import sparsity

TOL = 1e-2  # "near zero": L1 under SGD leaves weights jittering by about lr x l1 around 0

CLAIMS = (
    Claim("l1_sparse", 0, "L1: > 60 % of weights within 0.01 of zero"),
    Claim("l2_small_not_sparse", 1, "L2: < 10 % near zero, norm below the unpenalised run's"),
    Claim("all_fit", 1, "all three: test acc >= 0.9"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, run in run_lesson("l1-vs-l2", seed).items():
        weights = run.trainer.weights
        out[label] = {
            "sparsity": sparsity(weights, TOL),
            "norm": sum(float(w.detach().norm()) ** 2 for w in weights) ** 0.5,
            "acc": run.final["test_acc"],
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    l1, l2, none = m["L1 0.03"], m["L2 0.03"], m["none"]
    return {
        "l1_sparse": outcome(l1["sparsity"] > 0.6, "{:.0%}", l1["sparsity"]),
        "l2_small_not_sparse": outcome(
            l2["sparsity"] < 0.1 and l2["norm"] < none["norm"],
            "{:.0%} near zero, norm {:.1f} vs {:.1f}",
            l2["sparsity"],
            l2["norm"],
            none["norm"],
        ),
        "all_fit": outcome(
            min(v["acc"] for v in m.values()) >= 0.9, "{:.2f}", min(v["acc"] for v in m.values())
        ),
    }
