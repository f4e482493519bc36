"""Structure guidance: a layout's large shapes given to a canvas while it is painted, without the blur of img2img.

ILVR (Choi et al. 2021) replaces the low-frequency band of the sample with the noised reference's at every
step; here the same is done to the model's prediction of the clean canvas, which needs no noising of the
layout: with L_f a low-pass filter that keeps what is larger than the band size f (low_band),

    x0  <-  x0 + s w (L_f(layout) - L_f(x0))

at every solver step whose level t is at least `t_stop`. f sets which scales the layout fixes (its shapes
and colour masses, larger than f px) and which the model paints (everything finer: its texture); s is the
strength (1: the canvas's low band is the layout's; 0: plain `generate`); w an optional per-pixel weight
(0 where a sketch is transparent: painted freely). The steps below t_stop are free, so the last strokes are
the model's own. Unlike img2img, which starts part-way down the ladder from the noised layout, the whole
ladder runs: the model paints texture at full strength everywhere, and the layout still holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

BAND = 16  # default band size in px (docs/experiments/composition.md): shapes larger than this are the layout's
T_STOP = 0  # default: steered down to the clean end


@dataclass(frozen=True)
class Structure:
    """How a layout is brought in by structure guidance (module doc)."""

    band: int = BAND  # px: the layout fixes what is larger than this, the model paints the rest
    strength: float = 1.0  # 0: plain generate; 1: the canvas's low band is the layout's
    t_stop: int = T_STOP  # steered while the level t >= t_stop (0: every step)
    t_full: int = 0  # full strength from this level up, fading linearly to 0 at t_stop (0: no fade)
    skip: float = 0.0  # share of the ladder's first steps not run: the canvas starts from the layout noised


def low_band(x: Tensor, band: int, wrap: tuple[bool, bool] = (False, False)) -> Tensor:
    """L_f(x): x [B, C, H, W] blurred by a Gaussian of sigma = band / 2 (truncated at 3 sigma): what is larger
    than about `band` px stays, finer detail goes. Shift-invariant, so no grid of band-sized cells can show,
    and with no overshoot, so no halo at a sharp edge (a bicubic enlargement of cell means rings by a tenth
    of an edge's contrast, and more once unmixed to keep the means exact). An open axis is padded by
    replicating its edge, a wrapped one by wrapping around, so a tile's low band wraps too."""
    if band <= 1:
        return x
    sigma = band / 2
    r = max(1, math.ceil(3 * sigma))
    k = torch.exp(-(torch.arange(-r, r + 1, dtype=torch.float32, device=x.device) ** 2) / (2 * sigma**2))
    k = k / k.sum()
    out, c = x.float(), x.shape[1]
    for dim, wrapped in ((-1, wrap[1]), (-2, wrap[0])):
        n = out.shape[dim]
        pad = (r, r, 0, 0) if dim == -1 else (0, 0, r, r)
        if wrapped and r > n:  # a kernel wider than the tile: wrap it several times
            reps = 2 * math.ceil(r / n) + 1
            tiled = out.repeat(1, 1, *((1, reps) if dim == -1 else (reps, 1)))
            start = (reps // 2) * n - r
            out = tiled.narrow(dim, start, n + 2 * r)
        else:
            out = F.pad(out, pad, mode="circular" if wrapped else "replicate")
        shape = (1, 1, 1, 2 * r + 1) if dim == -1 else (1, 1, 2 * r + 1, 1)
        out = F.conv2d(out, k.view(shape).expand(c, *shape[1:]), groups=c)
    return out


class StructureSteer:
    """An x0 hook for the solvers, (x0 [B, 3, H, W], t) -> x0 with the layout's low band (module doc).

    `layout` [1 or B, 3, H, W] in [-1, 1] is on the canvas the solver paints (the whole-patch canvas);
    `weight` [1 or B, 1, H, W] in [0, 1] says where the layout counts (None: everywhere)."""

    def __init__(
        self,
        layout: Tensor,
        *,
        band: int = BAND,
        strength: float = 1.0,
        t_stop: int = T_STOP,
        t_full: int = 0,
        weight: Tensor | None = None,
        wrap: tuple[bool, bool] = (False, False),
    ) -> None:
        if not 0 <= strength <= 1:
            raise ValueError(f"structure strength must be between 0 and 1, got {strength}")
        if band < 1:
            raise ValueError(f"the band size must be at least 1 px, got {band}")
        self.band, self.strength, self.t_stop, self.wrap = band, float(strength), int(t_stop), wrap
        self.t_full = max(int(t_full), self.t_stop)
        self.layout = layout.float()  # on the canvas: where a head start begins (Structure.skip)
        self.target = low_band(self.layout, band, wrap)
        self.weight = None if weight is None else weight.float()

    def __call__(self, x0: Tensor, t: int) -> Tensor:
        if self.strength == 0 or t < self.t_stop:
            return x0
        target = self.target.to(x0.device)
        if tuple(target.shape[-2:]) != tuple(x0.shape[-2:]):
            raise ValueError(f"the layout is {tuple(target.shape[-2:])}, the canvas {tuple(x0.shape[-2:])}")
        fade = min(1.0, (t - self.t_stop + 1) / (self.t_full - self.t_stop + 1)) if self.t_full > self.t_stop else 1.0
        delta = (target - low_band(x0, self.band, self.wrap)).mul_(self.strength * fade)
        if self.weight is not None:
            delta.mul_(self.weight.to(x0.device))
        return x0.add_(delta.to(x0.dtype)).clamp_(-1, 1)


def chain(*hooks) -> object | None:  # noqa: ANN002 - X0Fn hooks or None
    """One x0 hook that runs the given ones in order (None ones skipped); None when there are none."""
    hooks = [h for h in hooks if h is not None]
    if not hooks:
        return None
    if len(hooks) == 1:
        return hooks[0]

    def run_all(x0: Tensor, t: int) -> Tensor:
        for hook in hooks:
            x0 = hook(x0, t)
        return x0

    return run_all
