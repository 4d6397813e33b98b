"""4 init-scale: activation spread explodes, collapses or saturates unless the init scale
matches the activation (He for ReLU, Xavier for tanh)."""

from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson
from app.nn.diagnose.diagnostics import loss_at_init

CLAIMS = (
    Claim("relu_std1_explodes", 0, "relu N(0,1): last/first layer std 100-5000"),
    Claim("relu_std01_collapses", 0, "relu N(0,0.1): last/first layer std < 0.05"),
    Claim("tanh_std1_saturates", 1, "tanh N(0,1): > 50 % of deep activations saturated"),
    Claim("matched_same_order", 2, "He and Xavier: last/first std within 0.1-10"),
    Claim("matched_train", 2, "He and Xavier: train acc >= 0.9"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, run in run_lesson("init-scale", seed).items():
        layers = run.first_eval()["layers"]  # measured at init, before any step
        std = layers["act_std"]
        deep = layers["saturated"][2:]
        out[label] = {
            "growth": std[-1] / std[0],
            "deep_saturated": sum(deep) / len(deep),
            "init_loss_ratio": loss_at_init(run.trainer.initial_loss, "binary", 2)["ratio"],
            "acc": run.final["train_acc"],
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    he, xa = m["relu He"], m["tanh Xavier"]
    return {
        "relu_std1_explodes": outcome(
            100 < m["relu N(0,1)"]["growth"] < 5000, "x{:.0f}", m["relu N(0,1)"]["growth"]
        ),
        "relu_std01_collapses": outcome(
            m["relu N(0,0.1)"]["growth"] < 0.05, "x{:.1e}", m["relu N(0,0.1)"]["growth"]
        ),
        "tanh_std1_saturates": outcome(
            m["tanh N(0,1)"]["deep_saturated"] > 0.5,
            "{:.0%} saturated",
            m["tanh N(0,1)"]["deep_saturated"],
        ),
        "matched_same_order": outcome(
            0.1 < he["growth"] < 10 and 0.1 < xa["growth"] < 10 and xa["deep_saturated"] < 0.15,
            "He x{:.2f} Xavier x{:.2f}",
            he["growth"],
            xa["growth"],
        ),
        "matched_train": outcome(
            he["acc"] >= 0.9 and xa["acc"] >= 0.9, "acc {:.2f} / {:.2f}", he["acc"], xa["acc"]
        ),
    }
