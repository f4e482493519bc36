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

from ..model.schedule import Schedule
from ..runtime.filters import collapse, laplacian_pyramid
from ..sampling.noise import randn
from ..sampling.solvers import Project
from .regions import bounding_cells

# Chosen on the test picture in assets/ (v1.2, the slow tests' masks, detail matched), border scores for
# blocks of 2 / 4 / 8 / 16 px: inpaint 1.77 / 1.77 / 1.99 / 1.90 and 1.79 / 1.77 / 1.75 / 1.91 (two
# masks), outpaint 0.50 / 0.68 / 0.62 / 0.73. Smaller blocks pin more of the flat start and leave the
# model less to paint, so 8. Anchoring to the end instead of t >= 300 (without detail matching):
# outpaint 1.21 against 1.12, inpaint 2.74 against 2.89.
ANCHOR_FACTOR = 8  # low-pass of the anchor: 8-px blocks
ANCHOR_UNTIL = 300  # below it (the last 30% of the levels) the model paints freely
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
    soft == 0 come back unchanged; with no kept pixels around, x is returned as it is. Only the box
    around the painted area and its ring is filtered (a small edit on a big canvas costs little)."""
    painted = (soft > 0).to(x.dtype)
    grown = _grow(painted, ring)
    near = grown * (1 - painted)
    if not (near > 0).any():
        return x
    r0, r1, c0, c1 = bounding_cells(grown, 1, 0)  # 1-px cells: the pixel box
    box = (..., slice(r0, r1), slice(c0, c1))
    part, weight_full, near = x[box], soft[box].to(x.dtype), near[box]
    bands = laplacian_pyramid(part, min_size=8)
    for i in range(min(levels, len(bands) - 1)):
        band = bands[i]
        size = band.shape[-2:]
        weight = F.interpolate(weight_full, size=size, mode="area")
        kept = F.interpolate(near, size=size, mode="area") > 0.99
        inside = weight > 0.5
        if not kept.any() or not inside.any():
            continue
        strength = band.abs().mean(1, keepdim=True)
        gain = (strength[kept].mean() / strength[inside].mean().clamp(min=1e-8)).clamp(max=1.0)
        bands[i] = band * (1 - weight * (1 - gain))
    out = x.clone()
    out[box] = torch.where(weight_full > 0, collapse(bands), part)
    return out


def _grow(mask: Tensor, radius: int, cell: int = 8) -> Tensor:
    """mask [1,1,H,W] grown by about `radius` px, on a grid of `cell`-px cells: a full-resolution max
    pool of that width took 21 s on a 2048x1024 canvas; this is a few milliseconds."""
    h, w = mask.shape[-2:]
    small = F.max_pool2d(mask, cell, ceil_mode=True)
    r = max(1, round(radius / cell))
    small = F.max_pool2d(small, (1, 2 * r + 1), stride=1, padding=(0, r))
    small = F.max_pool2d(small, (2 * r + 1, 1), stride=1, padding=(r, 0))
    return F.interpolate(small, scale_factor=cell, mode="nearest")[..., :h, :w]
