"""21 huber-outliers: on regression with one-sided outliers, Huber's fit stays near the clean
curve while MSE's is lifted towards the outliers."""

from typing import Any

import torch

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import Run, run_lesson
from app.nn.data.points import featurize

CLAIMS = (
    Claim("mse_lifted", 0, "MSE fit lies > 0.25 above the sine on average"),
    Claim("huber_close", 1, "Huber's mean lift < 0.3x MSE's"),
)


@torch.no_grad()
def lift(run: Run) -> float:
    """Mean of fit - sin(x) over the input range: how far the fit is pulled upwards."""
    x = torch.linspace(-5.5, 5.5, 221)
    raw = torch.stack([x, torch.zeros_like(x)], 1)
    model = run.trainer.model
    model.eval()
    fit = model(featurize(raw, run.trainer.data.features))[:, 0]
    return float((fit - torch.sin(x)).mean())


def measure(seed: int | None = None) -> dict[str, Any]:
    return {label: lift(run) for label, run in run_lesson("huber-outliers", seed).items()}


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    return {
        "mse_lifted": outcome(m["MSE"] > 0.25, "{:.2f}", m["MSE"]),
        "huber_close": outcome(abs(m["Huber"]) < 0.3 * m["MSE"], "{:.2f}", m["Huber"]),
    }
