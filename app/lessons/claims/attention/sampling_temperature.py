"""34 sampling-temperature: after training on a short text, greedy continuations repeat
themselves (fewest distinct character trigrams) and the variety and the entropy of the
next-character distribution rise with the sampling temperature."""

from itertools import pairwise
from typing import Any

import torch

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_single
from app.nn.measure.attention import entropy, sample
from app.nn.training.transformer import TransformerTrainer

TEMPERATURES = (0.0, 0.3, 1.0, 1.5)  # 0 = greedy
PROMPTS, PROMPT_LEN, STEPS = 8, 8, 48

CLAIMS = (
    Claim("learns_text", 0, "validation token accuracy >= 0.5"),
    Claim("greedy_fewest", 1, "greedy continuations: fewest distinct trigrams"),
    Claim("variety_rises", 1, "distinct-trigram share rises at every T in 0, 0.3, 1, 1.5"),
    Claim("entropy_rises", 2, "next-character entropy rises with T (0.3, 1, 1.5)"),
)


def distinct(texts: list[list[int]], n: int = 3) -> float:
    """Distinct n-grams over all n-grams of the texts."""
    grams = [tuple(t[i : i + n]) for t in texts for i in range(len(t) - n + 1)]
    return len(set(grams)) / max(1, len(grams))


def measure(seed: int | None = None) -> dict[str, Any]:
    run = run_single("sampling-temperature", seed)
    trainer = run.trainer
    assert isinstance(trainer, TransformerTrainer)
    g = torch.Generator().manual_seed(trainer.spec.seed)
    prompts = trainer.data.val.x[:PROMPTS, :PROMPT_LEN]
    variety = []
    for t in TEMPERATURES:
        texts = [sample(trainer.net, p, STEPS, t, g) for p in prompts]
        variety.append(distinct(texts))
    trainer.net.eval()
    with torch.no_grad():
        logits = trainer.net(trainer.data.val.x[:200])
    entropies = [float(entropy((logits / t).softmax(-1)).mean()) for t in TEMPERATURES[1:]]
    return {"acc": run.final["val_acc"], "variety": variety, "entropy": entropies}


def _rising(values: list[float]) -> bool:
    return all(a < b for a, b in pairwise(values))


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    v, e = m["variety"], m["entropy"]
    shown = " < ".join(f"{x:.2f}" for x in v)
    return {
        "learns_text": outcome(m["acc"] >= 0.5, "{:.3f}", m["acc"]),
        "greedy_fewest": outcome(v[0] < min(v[1:]), "{}", shown),
        "variety_rises": outcome(_rising(v), "{}", shown),
        "entropy_rises": outcome(_rising(e), "{}", " < ".join(f"{x:.2f}" for x in e)),
    }
