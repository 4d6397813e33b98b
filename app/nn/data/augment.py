"""Data augmentation of image batches: random shifts, small rotations, pixel noise.

One affine resampling per batch (torch's affine_grid + grid_sample, zeros outside the
image) moves and turns every image by its own random amount; an integer shift with no
rotation lands on pixel centres, so it moves pixels exactly. Draws come from the caller's
generator in a fixed order (angles, shifts, noise) so a seed gives the same batches.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


def affine(x: Tensor, angle: Tensor, dy: Tensor, dx: Tensor) -> Tensor:
    """Each image (N, C, H, W) turned by angle (radians, about its centre) and moved by
    (dy, dx) pixels (down, right), bilinear, zeros where nothing maps."""
    n, _, h, w = x.shape
    cos, sin = torch.cos(angle), torch.sin(angle)
    # affine_grid maps output coordinates to input ones (normalised to [-1, 1]): the
    # inverse motion, so content moves by +d.
    theta = torch.stack(
        [
            torch.stack([cos, -sin, -2 * dx / w], 1),
            torch.stack([sin, cos, -2 * dy / h], 1),
        ],
        1,
    ).to(x.dtype)
    grid = F.affine_grid(theta, [n, x.shape[1], h, w], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def augment(x: Tensor, shift: int, rotate: float, noise: float, g: torch.Generator) -> Tensor:
    """A training batch with each image shifted by up to `shift` pixels in each direction,
    turned by up to ±`rotate` degrees and given pixel noise of std `noise`."""
    n = x.shape[0]
    if shift or rotate:
        angle = (torch.rand(n, generator=g) * 2 - 1) * math.radians(rotate)
        d = torch.randint(-shift, shift + 1, (n, 2), generator=g).float()
        x = affine(x, angle, d[:, 0], d[:, 1])
    if noise:
        x = x + torch.randn(x.shape, generator=g) * noise
    return x
