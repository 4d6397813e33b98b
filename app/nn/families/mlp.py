"""The fully-connected family: MLPs on 2-D points (app.nn.models.mlp, app.nn.data.points)."""

from __future__ import annotations

from app.nn.export.script import export_script
from app.nn.families.base import Family
from app.nn.measure import pictures
from app.nn.training.trainer import Trainer

MLP = Family(
    "mlp",
    "Fully-connected network",
    "Dense layers with a choice of activation, norm, dropout and skips.",
    data="2-D points (toy datasets, drawn or uploaded points)",
    trainer=Trainer,
    export=export_script,
    live_snapshot=pictures.snapshot,
    live_grid=pictures.LIVE_GRID,
    views=("boundary", "network", "neurons", "charts", "diagnostics", "landscape"),
)
