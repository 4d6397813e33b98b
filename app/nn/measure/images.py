"""Compact live pictures of a convolutional net, sized for the wire like pictures.py.

Pictures travel as one byte per pixel (base64 in the JSON), each with the range that maps
it back: value = lo + q * (hi - lo) / 255. A snapshot (`snapshot(trainer)`) carries:
- filters: per conv layer {"shape": [out, in, k, k], "lo", "hi", "q"}, symmetric about 0
  (lo = -hi) so that 128 is a zero weight;
- input: the chosen test image {"index", "label", "drawn": false, "shape", "q"} (lo 0, hi 1
  after clamping), or the drawn one (the trainer's `drawn`, the `view_pixels` live change)
  {"index": null, "label": null, "drawn": true, ...};
- maps: per conv layer the chosen image's feature maps after the activation
  {"shape": [C, H, W], "lo", "hi", "q"};
- probs: its class probabilities; saliency: |d(predicted class score)/d(input)|
  {"size", "hi", "q"} (lo 0);
- confusion: [true][predicted] counts on the test split; wrong: up to MAX_WRONG
  misclassified test images of the gallery as [index, predicted] (the page has their
  pixels from the start record's gallery); test_acc.
`decode_picture` turns a picture back into a tensor (for Python consumers and tests).
"""

from __future__ import annotations

import base64
import time
from typing import Any

import numpy as np
import torch
from torch import Tensor

MAX_WRONG = 24
# The test-set pass behind the confusion matrix costs ~30 ms for 899 digits, most of a
# snapshot: while training it is redone at most every TEST_PASS_SECONDS (the pictures of the
# filters and of the chosen image stay live); "test_step" says which step it shows.
TEST_PASS_SECONDS = 0.5
GALLERY_BYTES = 40_000  # pixels of test images the start record carries (the page's picker)


def _b64(q: Tensor) -> str:
    return base64.b64encode(q.contiguous().numpy().tobytes()).decode("ascii")


def picture(values: Tensor, lo: float | None = None, hi: float | None = None) -> dict[str, Any]:
    """One byte per value over [lo, hi] (default: the values' finite range)."""
    v = torch.nan_to_num(values.detach().float(), nan=0.0, posinf=0.0, neginf=0.0)
    lo = float(v.min()) if lo is None else lo
    hi = float(v.max()) if hi is None else hi
    if hi <= lo:
        hi = lo + 1e-6
    q = ((v - lo) * (255.0 / (hi - lo))).round().clamp(0, 255).to(torch.uint8)
    return {"shape": list(values.shape), "lo": round(lo, 6), "hi": round(hi, 6), "q": _b64(q)}


def symmetric(values: Tensor) -> dict[str, Any]:
    span = float(torch.nan_to_num(values.detach().float()).abs().max()) or 1e-6
    return picture(values, -span, span)


def decode_picture(pic: dict[str, Any]) -> Tensor:
    q = np.frombuffer(base64.b64decode(pic["q"]), dtype=np.uint8).astype(np.float64)
    values = pic["lo"] + q * (pic["hi"] - pic["lo"]) / 255.0
    return torch.from_numpy(values).reshape(pic["shape"])


def gallery_size(images: Tensor) -> int:
    """How many of a split's images the gallery holds: 625 digits, 156 images of 16x16."""
    return min(len(images), GALLERY_BYTES // max(1, images.shape[-1] * images.shape[-2]))


def gallery(images: Tensor, labels: Tensor) -> dict[str, Any]:
    """The first gallery_size images of a split as bytes over [0, 1] (clamped), labelled."""
    limit = gallery_size(images)
    shown = images[:limit, 0]
    pic = picture(shown.clamp(0, 1), 0.0, 1.0)
    return {**pic, "labels": [int(y) for y in labels[:limit].tolist()]}


def saliency(model: torch.nn.Module, image: Tensor) -> tuple[Tensor, Tensor]:
    """(class probabilities, |d score/d pixel|) of one image (1, 1, H, W), where the score
    is the predicted class's logit; eval mode, nothing written to any .grad."""
    x = image.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = model(x)[0]
        top = int(logits.argmax())
        (grad,) = torch.autograd.grad(logits[top], x)
    return torch.softmax(logits.detach().double(), 0), grad[0, 0].abs()


def confusion_counts(pred: Tensor, y: Tensor, classes: int) -> list[list[int]]:
    """[true][predicted] counts."""
    counts = torch.bincount(y.long() * classes + pred, minlength=classes * classes)
    out: list[list[int]] = counts.reshape(classes, classes).tolist()
    return out


@torch.no_grad()
def _test_predictions(trainer: Any, x: Tensor, fresh: bool) -> tuple[Tensor, int]:
    """(predicted classes of the split, the step they are of): redone when `fresh`, else
    when the step moved and TEST_PASS_SECONDS have passed."""
    cached = getattr(trainer, "_test_pass", None)
    now = time.monotonic()
    due = cached is None or (cached[1] != trainer.step and now - cached[2] >= TEST_PASS_SECONDS)
    if fresh or due or cached is None:
        cached = (trainer.model(x).argmax(1), trainer.step, now)
        trainer._test_pass = cached
    pred: Tensor = cached[0]
    return pred, int(cached[1])


def snapshot(trainer: Any, size: int = 64, with_neurons: bool = False) -> dict[str, Any]:
    """A convolutional run's picture now (the family's live_snapshot). The run loop asks
    for size 0 while training (the family draws no grid: live_grid 0) and for the spec's
    grid size at a pause, a step or the end: those get a fresh test-set pass."""
    model, test = trainer.model, trainer.data.test
    classes = trainer.data.info.classes
    was_training = model.training
    model.eval()
    try:
        snap: dict[str, Any] = {
            "step": trainer.step,
            "epoch": trainer.epoch,
            "filters": [symmetric(conv.weight) for conv in model.convs()],
        }
        split = test if len(test) else trainer.data.train
        index = min(trainer.view_index, len(split) - 1)
        drawn = getattr(trainer, "drawn", None)
        image = split.x[index : index + 1] if drawn is None else drawn
        with torch.no_grad():
            maps, _ = model.feature_maps(image)
        pred, test_step = _test_predictions(trainer, split.x, fresh=size > 0)
        snap["input"] = {
            "index": index if drawn is None else None,
            "label": int(split.y[index]) if drawn is None else None,
            "drawn": drawn is not None,
            **picture(image[0, 0].clamp(0, 1), 0.0, 1.0),
        }
        snap["maps"] = [picture(m[0]) for m in maps]
        probs, sal = saliency(model, image)
        snap["probs"] = [round(p, 4) for p in probs.tolist()]
        snap["saliency"] = picture(sal, 0.0, float(sal.max()) or 1e-6)
        counts = confusion_counts(pred, split.y, classes)
        missed = (pred != split.y.long())[: gallery_size(split.x)]  # the page has these
        wrong = missed.nonzero().reshape(-1)[:MAX_WRONG]
        snap["confusion"] = counts
        snap["wrong"] = [[int(i), int(pred[i])] for i in wrong.tolist()]
        snap["test_acc"] = round(float((pred == split.y.long()).float().mean()), 4)
        snap["test_step"] = test_step
    finally:
        model.train(was_training)
    return snap
