"""Palettes that belong together, for designed layouts: colour-harmony rules in OKLCH, and a picture's own.

OKLab (Ottosson 2020) is a perceptual colour space: equal steps of lightness L look equal, and a hue keeps
its look as L and chroma C change, so a palette built by rules there (a base hue, its neighbours or its
complement, a ramp of lightness for depth) reads as designed, where colours drawn uniformly in RGB read as
garish. Colours that sRGB cannot show are brought into its gamut by lowering their chroma only (hue and
lightness kept).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RULES = ("analogous", "complementary", "split", "triadic", "monochrome")
_M1 = np.array([[0.4122214708, 0.5363325363, 0.0514459929], [0.2119034982, 0.6806995451, 0.1073969566],
                [0.0883024619, 0.2817188376, 0.6299787005]])  # fmt: skip
_M2 = np.array([[0.2104542553, 0.7936177850, -0.0040720468], [1.9779984951, -2.4285922050, 0.4505937099],
                [0.0259040371, 0.7827717662, -0.8086757660]])  # fmt: skip


def _to_linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _to_srgb(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0, None)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)


def srgb_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """[..., 3] sRGB in [0, 1] -> OKLab (L in [0, 1])."""
    lms = _to_linear(np.asarray(rgb, dtype=np.float64)) @ _M1.T
    return np.cbrt(lms) @ _M2.T


def oklab_to_linear(lab: np.ndarray) -> np.ndarray:
    """[..., 3] OKLab -> linear-light RGB, unclipped (a value outside [0, 1]: sRGB cannot show the colour)."""
    lms = (np.asarray(lab, dtype=np.float64) @ np.linalg.inv(_M2).T) ** 3
    return lms @ np.linalg.inv(_M1).T


def oklab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """[..., 3] OKLab -> sRGB in [0, 1] (out-of-gamut channels clipped)."""
    return np.clip(_to_srgb(np.clip(oklab_to_linear(lab), 0, 1)), 0, 1)


def oklch(lightness: float, chroma: float, hue: float) -> np.ndarray:
    """One colour from OKLCH (hue in degrees) as sRGB in [0, 1], its chroma lowered until sRGB can show it
    (bisection on the chroma: lightness and hue are kept)."""
    h = math.radians(hue)

    def lab(c: float) -> np.ndarray:
        return np.array([lightness, c * math.cos(h), c * math.sin(h)])

    def shows(c: float) -> bool:
        lin = oklab_to_linear(lab(c))
        return bool(np.all((lin >= -1e-6) & (lin <= 1 + 1e-6)))

    if shows(chroma):
        return oklab_to_srgb(lab(chroma))
    lo, hi = 0.0, chroma
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if shows(mid) else (lo, mid)
    return oklab_to_srgb(lab(lo))


@dataclass(frozen=True)
class Palette:
    """Colours for a layout: `depth` from far (or high) to near (or low), `accent` for a sun, a blob or a ribbon."""

    depth: tuple[tuple[float, float, float], ...]
    accent: tuple[float, float, float]
    rule: str

    def ramp(self, n: int) -> np.ndarray:
        """n colours [n, 3] along the depth colours, interpolated in OKLab."""
        lab = srgb_to_oklab(np.array(self.depth))
        at = np.linspace(0, len(lab) - 1, n)
        lo = np.floor(at).astype(int).clip(0, len(lab) - 2) if len(lab) > 1 else np.zeros(n, int)
        if len(lab) == 1:
            return np.repeat(np.array(self.depth), n, axis=0)
        w = (at - lo)[:, None]
        return np.clip(oklab_to_srgb(lab[lo] * (1 - w) + lab[lo + 1] * w), 0, 1)


def harmony(rng: np.random.Generator, rule: str | None = None, night: bool | None = None) -> Palette:
    """A palette by a colour-harmony rule: a base hue, the rule's other hues, lightness from light to dark
    (day) or dark to light (night), moderate chroma as wallpapers have."""
    rule = rule or str(rng.choice(RULES, p=[0.3, 0.2, 0.2, 0.1, 0.2]))
    base = float(rng.uniform(0, 360))
    hues = {
        "analogous": [base - 30, base, base + 30],
        "complementary": [base, base, base + 180],
        "split": [base, base + 150, base + 210],
        "triadic": [base, base + 120, base + 240],
        "monochrome": [base, base, base],
    }[rule]
    night = bool(rng.random() < 0.25) if night is None else night
    n = 5
    light = np.linspace(0.88, 0.32, n) if not night else np.linspace(0.22, 0.55, n)
    light = light + rng.uniform(-0.05, 0.05, n)
    chroma = float(rng.uniform(0.04, 0.14))
    depth = []
    for i in range(n):
        hue = hues[min(len(hues) - 1, i * len(hues) // n)] + float(rng.uniform(-8, 8))
        c = chroma * (0.6 + 0.8 * i / (n - 1)) if not night else chroma * (1.1 - 0.5 * i / (n - 1))
        depth.append(tuple(oklch(float(np.clip(light[i], 0.05, 0.97)), c, hue)))
    accent_hue = hues[-1] if rule != "monochrome" else base + 180 * float(rng.random() < 0.5)
    accent = tuple(oklch(0.86 if not night else 0.78, min(0.13, chroma * 1.4), accent_hue + 20))
    return Palette(tuple(depth), accent, rule)


def from_picture(rgb: np.ndarray, rng: np.random.Generator, n: int = 5) -> Palette:
    """A picture's own palette: n colours at evenly spaced lightness quantiles of its pixels [H, W, 3] in
    [0, 1] (each the mean colour of that lightness band), light to dark, and its most colourful one as accent."""
    lab = srgb_to_oklab(rgb.reshape(-1, 3))
    order = np.argsort(-lab[:, 0])
    bands = np.array_split(order, n)
    depth = [tuple(np.clip(oklab_to_srgb(lab[b].mean(0)), 0, 1)) for b in bands if len(b)]
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    accent = tuple(np.clip(oklab_to_srgb(lab[np.argsort(-chroma)[: max(1, len(lab) // 50)]].mean(0)), 0, 1))
    if rng.random() < 0.5:  # either way up: light sky over dark ground, or the reverse
        depth = depth[::-1]
    return Palette(tuple(depth), accent, "picture")
