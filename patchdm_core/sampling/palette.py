"""Palette steering: the colours of a reference picture carried into a canvas while it is painted.

The global code of `--style` carries a reference's colours only in part: the palette distance of styled
canvases to their reference was 0.50 of the unconditional canvases' on average over the held-out pictures
(bench/style_palette.py). This steers the model's prediction of the clean canvas at every solver step:
the prediction's pixel colours are moved towards the reference's colour distribution by sliced optimal
transport (iterative distribution transfer, Pitie et al. 2007): for a few fixed rotations of RGB space,
each of the three coordinates is mapped through the monotone 1-D map that gives it the reference's
quantiles. The map is one function of colour for the whole canvas, so shapes and edges stay where the
model put them, and each step paints on from the steered prediction, so texture adapts to the colours
instead of being recoloured at the end. `strength` blends the prediction with its mapped self.

Matching only the mean and covariance (the Gaussian optimal-transport map, tried first) brought the
ratio to 0.22 but painted colours the reference does not have: stretching a red-grey picture's main
axis sends half of it to cyan. Quantile maps only use the reference's own colours along every axis.
"""

from __future__ import annotations

import torch
from PIL import Image
from torch import Tensor

from ..runtime.images import from_pil

STRENGTH = 0.25  # --style's default: palette distance 0.08 of the unconditional one (docs/experiments/style.md)
ROTATIONS = 4  # the identity and three fixed random rotations of RGB space: 12 one-dimensional maps
KNOTS = 256  # quantiles per 1-D map
STRIDE = 4  # colour statistics from every 4th pixel of every 4th row (2048x1024: 131 072 pixels)


def _rotations(n: int) -> Tensor:
    gen = torch.Generator().manual_seed(0)  # fixed: the same reference always steers the same way
    mats = [torch.eye(3)]
    while len(mats) < n:
        mats.append(torch.linalg.qr(torch.randn(3, 3, generator=gen))[0])
    return torch.stack(mats)


def _quantiles(values: Tensor) -> Tensor:
    """[C, n] -> [C, KNOTS] evenly spaced quantiles of each row."""
    ordered = values.sort(-1).values
    return ordered[..., torch.linspace(0, ordered.shape[-1] - 1, KNOTS, device=values.device).round().long()]


def _through(v: Tensor, xs: Tensor, ys: Tensor) -> Tensor:
    """The piecewise-linear map through the knots (xs[c, k], ys[c, k]), xs ascending, applied to v [C, N]
    (flat at the ends; a run of equal xs, from a flat region, maps to its first knot)."""
    idx = torch.searchsorted(xs.contiguous(), v.contiguous()).clamp(1, xs.shape[-1] - 1)
    lo, hi = xs.gather(-1, idx - 1), xs.gather(-1, idx)
    w = ((v - lo) / (hi - lo).clamp(min=1e-6)).clamp(0, 1)
    return torch.lerp(ys.gather(-1, idx - 1), ys.gather(-1, idx), w)


def _pixels(x: Tensor) -> Tensor:
    """[3, H, W] -> [3, n] colours of the sampled pixels."""
    return x[:, ::STRIDE, ::STRIDE].reshape(3, -1).float()


class PaletteSteer:
    """An x0 hook for the solvers, (x0 [B, 3, H, W], t) -> x0: each canvas's colours moved towards the
    reference's by `strength` (0: nothing; 1: the reference's colour distribution, as far as 12 sliced
    maps reach)."""

    def __init__(self, reference: Tensor | Image.Image, strength: float = STRENGTH) -> None:
        if not 0 <= strength <= 1:
            raise ValueError(f"palette strength must be between 0 and 1, got {strength}")
        ref = from_pil(reference) if isinstance(reference, Image.Image) else reference
        self.rotations = _rotations(ROTATIONS)
        colours = _pixels(ref[0].float())
        self.targets = [_quantiles(r.T @ colours) for r in self.rotations]  # [3, KNOTS] per rotation
        self.strength = float(strength)

    def __call__(self, x0: Tensor, t: int) -> Tensor:
        if self.strength == 0:
            return x0
        for b in range(x0.shape[0]):
            x = x0[b].reshape(3, -1).float()
            y = x.clone()
            for rotation, target in zip(self.rotations, self.targets):
                r = rotation.to(x.device)
                coords = r.T @ y  # [3, N]: the colours in the rotated frame
                sample = coords.reshape(3, *x0.shape[-2:])[:, ::STRIDE, ::STRIDE].reshape(3, -1)
                y += r @ (_through(coords, _quantiles(sample), target.to(x.device)) - coords)
            x0[b] = torch.lerp(x, y, self.strength).reshape(x0[b].shape).to(x0.dtype)
        return x0.clamp_(-1, 1)
