"""Known-region projection for inpainting, outpainting and region re-roll (none exist in the paper's code).

After every denoising step the pixels we keep are replaced by the known image noised to the same
level (RePaint without resampling). A soft mask feathers the seam the Differential Diffusion way:
a pixel of repaint strength s in [0, 1] is generated once the normalised level drops below s, so
the core of the hole is painted from the start and the feather band joins late. "harmonized" adds
RePaint's resampling: every `jump` steps the chain is re-noised back `jump` steps and denoised
again, `resample` times in all, so the hole and its surroundings can agree.

Core masks are 1 where pixels are KNOWN (kept); the UI converts painted strokes once.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ..model.schedule import Schedule
from ..runtime.filters import gaussian_blur
from ..runtime.sizes import round_up
from ..sampling.noise import randn
from ..sampling.solvers import Project


def feather(repaint: Tensor, radius: int) -> Tensor:
    """Binary repaint mask [1,1,H,W] -> soft strength: 1 on the hole, a smooth ramp to exactly 0 at
    `radius` px outside it (a Gaussian truncated at `radius`, doubled and clipped)."""
    repaint = repaint.float()
    if radius <= 0:
        return repaint
    blurred = gaussian_blur(repaint, radius, pad_mode="constant")
    return torch.maximum((2 * blurred).clamp(0, 1), repaint)


def projection(schedule: Schedule, known: Tensor, soft: Tensor, generator: torch.Generator) -> Project:
    """project(x, t): keep x where the step's threshold lets the soft mask repaint, else noised known."""
    total = schedule.timesteps

    def project(x: Tensor, t: int) -> Tensor:
        threshold = (t + 1) / total  # 1 at pure noise, 0 at the clean end
        generate = soft > threshold
        if t < 0:
            return torch.where(generate, x, known)
        noisy_known = schedule.q_sample(known, t, randn(known.shape, generator, known.device))
        return torch.where(generate, x, noisy_known)

    return project


def repaint_path(timesteps: Sequence[int], jump: int, resample: int) -> list[int]:
    """RePaint's schedule on DDIM levels: each segment of `jump` steps is run `resample` times
    (re-noised back to its start in between); the last segment runs once. 50 steps, jump 5,
    5 resamples -> 230 model evaluations (4.6x a plain run)."""
    ts = list(timesteps)
    if jump < 1 or resample < 1:
        raise ValueError("jump and resample must be at least 1")
    path: list[int] = [ts[0]]
    for start in range(0, len(ts), jump):
        seg = ts[start + 1 : start + jump + 1]  # levels reached by this segment's steps
        last = start + jump >= len(ts) - 1
        rounds = 1 if last else resample
        for i in range(rounds):
            if i:
                path.append(ts[start])  # re-noise back to the segment's start level
            path.extend(seg)
    return path


def evals_of(path: Sequence[int]) -> int:
    """Model evaluations along a path (every downward move; the sampler adds the final move to -1)."""
    full = list(path) + [-1]
    return sum(1 for a, b in zip(full, full[1:]) if b < a)


def grow_canvas(image: Tensor, pad: tuple[int, int, int, int], p: int) -> tuple[Tensor, Tensor, tuple[int, int]]:
    """Place image on a canvas grown by pad = (top, right, bottom, left) px and rounded up to whole
    patches (the rounding goes to the grown sides). Returns (canvas, keep mask, (top, left) offset)."""
    top, right, bottom, left = pad
    if min(pad) < 0:
        raise ValueError(f"extensions must be >= 0, got {pad}")
    _, c, h, w = image.shape
    extra_h, extra_w = (
        round_up(top + h + bottom, p) - (top + h + bottom),
        round_up(left + w + right, p) - (left + w + right),
    )
    bottom += extra_h if bottom or not top else 0
    top += extra_h if top and not bottom else 0
    right += extra_w if right or not left else 0
    left += extra_w if left and not right else 0
    canvas = image.new_zeros(1, c, top + h + bottom, left + w + right)
    keep = image.new_zeros(1, 1, *canvas.shape[-2:])
    canvas[..., top : top + h, left : left + w] = image
    keep[..., top : top + h, left : left + w] = 1
    return canvas, keep, (top, left)


def bounding_cells(soft: Tensor, p: int, margin: int) -> tuple[int, int, int, int]:
    """Patch cells (r0, r1, c0, c1), end-exclusive, covering every pixel with soft > 0 plus `margin` px."""
    ys, xs = torch.nonzero(soft[0, 0] > 0, as_tuple=True)
    if ys.numel() == 0:
        raise ValueError("the mask is empty: paint the area to repaint")
    h, w = soft.shape[-2:]
    r0, c0 = max(0, int(ys.min()) - margin) // p, max(0, int(xs.min()) - margin) // p
    r1 = -(-min(h, int(ys.max()) + 1 + margin) // p)
    c1 = -(-min(w, int(xs.max()) + 1 + margin) // p)
    return r0, r1, c0, c1
