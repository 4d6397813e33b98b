"""The convolutional family's trainer: the MLP's Trainer on images.

Everything a run has (optimizers, schedules, L1/L2 and decay, clipping, early stopping,
per-layer gradient norms, live hyper-parameters, evaluations, diagnostics) comes from
app.nn.training.trainer.Trainer unchanged; this class brings the image data, the conv net,
augmentation of training batches, and the start record and snapshot the image views draw.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from app.nn.data.augment import augment
from app.nn.data.images import (
    DRAWN_LEVELS,
    DRAWN_SIZE,
    IMAGE_DATASETS,
    class_names,
    drawn_image,
    make_image_data,
)
from app.nn.measure import images
from app.nn.models.cnn import build_cnn
from app.nn.records import Record
from app.nn.spec.cnn import CnnPart
from app.nn.spec.experiment import Spec
from app.nn.training.trainer import Trainer, derived_seeds

AUGMENT_SEED = 5_000_011  # its own stream: turning augmentation on changes nothing else


def image_data(spec: Spec) -> Any:
    part = spec.cnn
    assert part is not None
    return make_image_data(
        part.dataset,
        part.size,
        part.classes,
        part.samples,
        part.noise,
        spec.data.train_fraction,
        spec.data.val_fraction,
        derived_seeds(spec.seed)["data"],
    )


class CnnTrainer(Trainer):
    def __init__(self, spec: Spec, engine: str = "auto") -> None:
        assert spec.cnn is not None, "a cnn spec has its part (Spec fills it)"
        self.part: CnnPart = spec.cnn
        self.augment_gen = torch.Generator().manual_seed(spec.seed + AUGMENT_SEED)
        self.view_index = 0  # the test image the feature maps and saliency look at
        self.drawn: torch.Tensor | None = None  # a drawn input they look at instead (1,1,8,8)
        model = build_cnn(
            self.part, self.part.classes, spec.model, derived_seeds(spec.seed)["init"]
        )
        # The fused kernel covers dense nets only: "auto" falls back to eager with a reason.
        super().__init__(spec, data=image_data(spec), model=model, engine=engine)  # type: ignore[arg-type]

    def set_hparams(self, **changes: Any) -> dict[str, Any]:
        """The MLP's live changes plus what the views look at: view_input (a test image)
        or view_pixels (a drawn digit, until a test image is chosen again)."""
        view = changes.pop("view_input", None)
        pixels = changes.pop("view_pixels", None)
        # Checked before anything is applied: a refused message changes nothing.
        drawn = drawn_image(self.part.dataset, pixels) if pixels is not None else None
        applied = super().set_hparams(**changes) if changes else {}
        if view is not None:
            n = len(self.data.test) or len(self.data.train)
            self.view_index = max(0, min(int(view), n - 1))
            self.drawn = None
            applied["view_input"] = self.view_index
        if drawn is not None:
            self.drawn = drawn
            levels = (drawn.reshape(-1).double() * DRAWN_LEVELS).tolist()
            applied["view_pixels"] = [round(v, 4) for v in levels]
        return applied

    def batch_inputs(self, xb: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
        a = self.part.augment
        if a.active():
            xb = augment(xb, a.shift, a.rotate, a.noise, self.augment_gen)
        noise = self.hp["input_noise"]
        if noise:
            xb = xb + torch.randn(xb.shape, generator=self.noise_gen) * noise
        return xb

    def snapshot(self, grid_size: int | None = None, neurons: bool | None = None) -> Record:
        return {"kind": "snapshot", **images.snapshot(self)}

    def _start_record(self) -> Record:
        classes = self.data.info.classes
        part = self.part
        test = self.data.test if len(self.data.test) else self.data.train
        return {
            "kind": "start",
            "family": "cnn",
            "task": self.task,
            "classes": classes,
            "class_names": class_names(part.dataset, classes),
            "layers": self.model.layer_names(),
            "feature_shapes": [list(s) for s in part.feature_shapes()],
            "image_size": part.size,
            "sizes": {k: len(s) for k, s in self.data.splits().items()},
            "steps_per_epoch": self.steps_per_epoch,
            "total_steps": self.total_steps,
            "params": sum(p.numel() for p in self.model.parameters()),
            "chance_loss": math.log(classes),
            "engine": {"path": self.engine, "reason": self.engine_reason},
            "gallery": images.gallery(test.x, test.y),
            # The page's drawing pad: shown only for datasets a user can draw for.
            "draw": (
                {"size": DRAWN_SIZE, "levels": DRAWN_LEVELS}
                if IMAGE_DATASETS[part.dataset].drawable
                else None
            ),
        }
