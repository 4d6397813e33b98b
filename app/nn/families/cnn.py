"""The convolutional family: CNNs on tiny images (app.nn.models.cnn, app.nn.data.images)."""

from __future__ import annotations

from app.nn.export.cnn import export_cnn
from app.nn.families.base import Family
from app.nn.measure import images
from app.nn.training.cnn import CnnTrainer

CNN = Family(
    "cnn",
    "Convolutional network",
    "Conv layers (filters shared across the image), pooling, then the dense head.",
    data="tiny images (8x8 handwritten digits, generated shapes)",
    trainer=CnnTrainer,
    export=export_cnn,
    live_snapshot=images.snapshot,
    views=(
        "filters",
        "maps",
        "probs",
        "confusion",
        "wrong",
        "saliency",
        "charts",
        "diagnostics",
        "landscape",
    ),
)
