"""Drawing on a small float canvas [H, W, 3] in [0, 1] with numpy: gradients, anti-aliased shapes and the
smooth random curves that designed layouts are made of. Colours are blended in OKLab, where a gradient
between two colours does not pass through a grey or a muddy middle."""

from __future__ import annotations

import numpy as np

from .palettes import oklab_to_srgb, srgb_to_oklab


class Canvas:
    """A [H, W, 3] picture and its pixel-centre coordinates (x in [0, W / H), y in [0, 1): the height is the
    unit, so a shape keeps its proportions at any aspect)."""

    def __init__(self, height: int, width: int) -> None:
        self.h, self.w = height, width
        self.rgb = np.zeros((height, width, 3))
        self.y, self.x = np.mgrid[0:height, 0:width].astype(np.float64)
        self.y, self.x = (self.y + 0.5) / height, (self.x + 0.5) / height
        self.aspect = width / height
        self.aa = 1.5 / height  # the width of an anti-aliased edge: a pixel and a half

    def paint(self, colour: np.ndarray, mask: np.ndarray) -> None:
        """Blend `colour` ([3] or [H, W, 3]) over the canvas where `mask` [H, W] in [0, 1] says."""
        m = np.clip(mask, 0, 1)[..., None]
        self.rgb = self.rgb * (1 - m) + np.broadcast_to(colour, self.rgb.shape) * m

    def soft(self, signed: np.ndarray) -> np.ndarray:
        """An anti-aliased mask from a signed distance (inside where negative)."""
        return np.clip(0.5 - signed / self.aa, 0, 1)


def mix(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Colours a [3] and b [3] blended by t [H, W] (0: a, 1: b) in OKLab -> [H, W, 3] sRGB."""
    la, lb = srgb_to_oklab(np.asarray(a)), srgb_to_oklab(np.asarray(b))
    t = np.clip(t, 0, 1)[..., None]
    return np.clip(oklab_to_srgb(la * (1 - t) + lb * t), 0, 1)


def linear(c: Canvas, a: np.ndarray, b: np.ndarray, angle: float, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """A linear gradient from a to b along the direction `angle` (radians; 0: left to right, pi/2: top to
    bottom) over the canvas, between the fractions lo and hi of its extent."""
    d = np.cos(angle) * c.x + np.sin(angle) * c.y
    span = abs(np.cos(angle)) * c.aspect + abs(np.sin(angle))
    start = min(0.0, np.cos(angle) * c.aspect) + min(0.0, np.sin(angle))
    t = ((d - start) / max(span, 1e-6) - lo) / max(hi - lo, 1e-6)
    return mix(a, b, t)


def radial(c: Canvas, a: np.ndarray, b: np.ndarray, cx: float, cy: float, radius: float) -> np.ndarray:
    """A radial gradient from a at (cx, cy) to b at `radius` (canvas units) and beyond."""
    return mix(a, b, np.hypot(c.x - cx, c.y - cy) / max(radius, 1e-6))


def wave(rng: np.random.Generator, x: np.ndarray, amplitude: float, octaves: int = 3, period: float = 1.0):
    """A smooth random curve y(x): a sum of `octaves` sines, each of half the amplitude and about twice the
    frequency of the one before (periods around `period` canvas heights)."""
    y = np.zeros_like(x)
    amp, freq = amplitude, 2 * np.pi / period
    for _ in range(octaves):
        f = freq * rng.uniform(0.7, 1.4)
        y += amp * np.sin(f * x + rng.uniform(0, 2 * np.pi))
        amp, freq = amp * rng.uniform(0.35, 0.55), freq * rng.uniform(1.8, 2.6)
    return y


def ridge(rng: np.random.Generator, x: np.ndarray, amplitude: float, octaves: int = 5) -> np.ndarray:
    """A mountain ridge: octaves of |sine| folded to sharp peaks, the finer ones smaller (fractal-like)."""
    y = np.zeros_like(x)
    amp, freq = amplitude, 2 * np.pi * rng.uniform(0.4, 0.9)
    for _ in range(octaves):
        y -= amp * (1 - np.abs(np.sin(freq * x + rng.uniform(0, 2 * np.pi))))
        amp, freq = amp * rng.uniform(0.4, 0.55), freq * rng.uniform(1.9, 2.4)
    return y - y.mean()


def shade(rgb: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Lighten (amount > 0) or darken (< 0) colours [H, W, 3] by changing OKLab lightness only."""
    lab = srgb_to_oklab(rgb)
    lab[..., 0] = np.clip(lab[..., 0] + amount, 0, 1)
    return np.clip(oklab_to_srgb(lab), 0, 1)


def clouds(rng: np.random.Generator, c: Canvas, octaves: int = 4, coarsest: float = 0.5) -> np.ndarray:
    """Smooth random variation [H, W] in about [-1, 1]: value noise, octaves of random grids enlarged smoothly,
    the coarsest with cells `coarsest` canvas heights wide, each finer one half the size and half as strong
    (the mottling of a sky, the roughness of a hill: what a flat fill lacks)."""
    import torch
    import torch.nn.functional as F

    out = np.zeros((c.h, c.w))
    cell, amp = coarsest, 1.0
    for _ in range(octaves):
        gh, gw = max(2, int(np.ceil(1 / cell)) + 2), max(2, int(np.ceil(c.aspect / cell)) + 2)
        grid = torch.from_numpy(rng.standard_normal((1, 1, gh, gw)))
        big = F.interpolate(grid, size=(round(gh * cell * c.h), round(gw * cell * c.h)), mode="bicubic")[0, 0]
        oy, ox = rng.integers(0, max(1, big.shape[0] - c.h + 1)), rng.integers(0, max(1, big.shape[1] - c.w + 1))
        out += amp * big.numpy()[oy : oy + c.h, ox : ox + c.w]
        cell, amp = cell / 2, amp / 2
    return out / max(1e-6, np.abs(out).max())
