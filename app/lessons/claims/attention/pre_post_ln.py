"""36 pre-post-ln: at a learning rate high for a transformer (Adam 0.03, 4 blocks), the
post-LN model stays at chance while the identical pre-LN one learns to reverse."""

import math
from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson
from app.nn.training.transformer import TransformerTrainer

CLAIMS = (
    Claim("post_at_chance", 0, "post-LN: validation loss >= 0.9 x ln(vocabulary)"),
    Claim("post_never_whole", 0, "post-LN: validation sequence accuracy < 0.05"),
    # On the 20 untuned seeds: 18 of 20 (0.68 to 1.00; two stayed near 0): "about 9 in 10".
    Claim("pre_reverses", 1, "pre-LN: validation sequence accuracy >= 0.5", share=0.85),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, run in run_lesson("pre-post-ln", seed).items():
        assert isinstance(run.trainer, TransformerTrainer)
        out[label] = {
            "loss": run.final["val_loss"],
            "seq": run.final["val_seq_acc"],
            "chance": math.log(run.trainer.net.cfg.vocab),
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    post, pre = m["post-LN"], m["pre-LN"]
    post_loss = post["loss"] if post["loss"] is not None else math.inf  # diverged: not learnt
    return {
        "post_at_chance": outcome(
            post_loss >= 0.9 * post["chance"], "{:.3f} (chance {:.3f})", post_loss, post["chance"]
        ),
        "post_never_whole": outcome((post["seq"] or 0.0) < 0.05, "{:.3f}", post["seq"] or 0.0),
        "pre_reverses": outcome((pre["seq"] or 0.0) >= 0.5, "{:.3f}", pre["seq"] or 0.0),
    }
