"""Procedural images of shapes (bars, crosses, rings, squares, triangles), seeded.

Each image is size x size in [0, 1] (the shape at 1 on a 0 background) plus Gaussian
pixel noise. A shape has a random scale (its half-size between 30 % and 42 % of the side,
or the range the caller gives)
and is placed at a random integer offset from the centre of at most `shift` pixels in each
direction. Every draw comes from the one generator, so a seed gives the same images.
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor
SHAPES = ("bar", "cross", "ring", "square", "triangle")  # class k is SHAPES[k]
MIN_CLASSES, MAX_CLASSES = 2, len(SHAPES)


def _coords(size: int, n: int, shift: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """Per image the pixel offsets from its shape's centre: (n, size, size) dy and dx."""
    axis = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    off = torch.randint(-shift, shift + 1, (n, 2), generator=g).double() if shift else None
    dy = axis.view(1, size, 1).expand(n, size, size)
    dx = axis.view(1, 1, size).expand(n, size, size)
    if off is not None:
        dy = dy - off[:, 0].view(n, 1, 1)
        dx = dx - off[:, 1].view(n, 1, 1)
    return dy, dx


def _draw(kind: Tensor, dy: Tensor, dx: Tensor, r: Tensor, turn: Tensor) -> Tensor:
    """The shapes as 0/1 pictures; r is each half-size, turn flips a bar to vertical."""
    r = r.view(-1, 1, 1)
    half = 0.75  # strokes 1.5 px wide
    ady, adx = dy.abs(), dx.abs()
    horizontal = (ady <= half) & (adx <= r)
    vertical = (adx <= half) & (ady <= r)
    flip = turn.view(-1, 1, 1)
    bar = torch.where(flip, vertical, horizontal)
    cross = horizontal | vertical
    ring = ((dy * dy + dx * dx).sqrt() - r * 0.85).abs() <= half
    box = torch.maximum(ady, adx)
    square = (box <= r) & (box >= r - 2 * half)
    # Filled, pointing up: the half-width grows from 0 at the top (dy = -r) to r at the base.
    triangle = (dy >= -r) & (dy <= r) & (adx <= (dy + r) / 2)
    pictures = torch.stack([bar, cross, ring, square, triangle], 1)  # (n, 5, size, size)
    return pictures[torch.arange(len(kind)), kind].double()


def shapes(
    n: int,
    size: int,
    classes: int,
    noise: float,
    shift: int,
    g: torch.Generator,
    scale: tuple[float, float] = (0.30, 0.42),
) -> tuple[Tensor, Tensor]:
    """n images (n, 1, size, size) float64 and their labels (n,) 0..classes-1, balanced;
    each shape's half-size is a random share of the side within `scale`."""
    if not MIN_CLASSES <= classes <= MAX_CLASSES:
        raise ValueError(f"shapes have {MIN_CLASSES} to {MAX_CLASSES} classes, got {classes}")
    labels = torch.arange(n) % classes
    lo, hi = scale
    half = torch.rand(n, generator=g, dtype=torch.float64) * (hi - lo) + lo
    turn = torch.rand(n, generator=g) < 0.5
    dy, dx = _coords(size, n, shift, g)
    pictures = _draw(labels, dy, dx, half * size, turn)
    if noise:
        pictures = pictures + torch.randn(pictures.shape, generator=g, dtype=torch.float64) * noise
    return pictures.unsqueeze(1), labels.double()
