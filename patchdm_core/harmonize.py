"""Making an edit's painted area agree with the picture around it (neither part is in the paper).

- Low-frequency anchoring (ILVR, Choi et al. 2021): while the noise level is at or above `until`, the
  painted area's coarse colours (the canvas low-passed by `factor`) are replaced by those of the area's
  starting fill noised to the same level; the model paints the detail, and below `until` it is free.
  Without it a briefly trained model drifts to its own palette (grey-lilac on the beach picture in
  assets/) and the border shows as a colour step.
- Detail matching: on the finished canvas, each fine band of a Laplacian pyramid inside the painted
  area is scaled down to the mean strength of the same band in a ring of kept pixels around it, so a
  model that paints grain leaves no grainy blob in a smooth picture. A band is never amplified.

Measured on the held-out pictures with bench/edit_quality.py (figures in weights/README.md).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .metrics import laplacian_pyramid
from .noise import randn
from .sampler import Project
from .schedule import Schedule

ANCHOR_FACTOR = 8  # low-pass of the anchor: 8 px blocks (16 let the palette drift more at the border)
ANCHOR_UNTIL = 300  # the last 30% of the noise levels paint freely (anchoring to the end made it flatter)
DETAIL_LEVELS = 4  # bands of 1, 2, 4 and 8 px; coarser ones carry the picture's shapes, not its grain
DETAIL_RING = 48  # px of kept picture around the painted area that set each band's strength


def lowpass(x: Tensor, factor: int) -> Tensor:
    """x [N,C,H,W] averaged over factor x factor blocks and smoothly upsampled back to H x W."""
    small = F.avg_pool2d(x, factor, ceil_mode=True)
    return F.interpolate(small, size=x.shape[-2:], mode="bilinear", align_corners=False)


def anchored(
    project: Project,
    schedule: Schedule,
    reference: Tensor,
    soft: Tensor,
    generator: torch.Generator,
    factor: int = ANCHOR_FACTOR,
    until: int = ANCHOR_UNTIL,
) -> Project:
    """`project`, then, at levels t >= until, the painted area's (soft > 0) low-pass set to that of
    `reference` noised to level t (fresh noise each time, as the known area's)."""
    painted = soft > 0

    def project_anchored(x: Tensor, t: int) -> Tensor:
        x = project(x, t)
        if t < until:
            return x
        target = schedule.q_sample(reference, t, randn(reference.shape, generator, reference.device))
        return torch.where(painted, x + lowpass(target, factor) - lowpass(x, factor), x)

    return project_anchored


def match_detail(x: Tensor, soft: Tensor, *, levels: int = DETAIL_LEVELS, ring: int = DETAIL_RING) -> Tensor:
    """x [1,C,H,W] with its finest `levels` bands inside the painted area (soft [1,1,H,W] > 0) scaled
    down to the strength of the same bands in the kept pixels within `ring` px of it. Pixels where
    soft == 0 come back unchanged; with no kept pixels around, x is returned as it is."""
    painted = (soft > 0).to(x.dtype)
    near = F.max_pool2d(painted, 2 * ring + 1, stride=1, padding=ring) * (1 - painted)
    if not (near > 0).any():
        return x
    bands = laplacian_pyramid(x, min_size=8)
    for i in range(min(levels, len(bands) - 1)):
        band = bands[i]
        size = band.shape[-2:]
        weight = F.interpolate(soft.to(x.dtype), size=size, mode="area")
        kept = F.interpolate(near, size=size, mode="area") > 0.99
        inside = weight > 0.5
        if not kept.any() or not inside.any():
            continue
        strength = band.abs().mean(1, keepdim=True)
        gain = (strength[kept].mean() / strength[inside].mean().clamp(min=1e-8)).clamp(max=1.0)
        bands[i] = band * (1 - weight * (1 - gain))
    return torch.where(soft > 0, collapse(bands), x)


def collapse(bands: list[Tensor]) -> Tensor:
    """The inverse of metrics.laplacian_pyramid: upsample the residual and add each band, coarse to fine."""
    x = bands[-1]
    for band in reversed(bands[:-1]):
        x = F.interpolate(x, size=band.shape[-2:], mode="bilinear", align_corners=False) + band
    return x
