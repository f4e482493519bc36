"""Designed layouts: the compositions wallpaper designers draw, made new from a seed at any aspect.

The families are those of the generators designers use for backgrounds (layered SVG waves and peaks, blob
scenes, gradient meshes) and of the wallpapers themselves (a horizon with a sun, planes, ribbons, rings).
Each is drawn with gradients inside its shapes and a palette that belongs together (palettes.py), at a small
working size with the canvas's aspect; the painter only takes its large shapes (structure guidance keeps
what is larger than its band and lets the model paint the rest), so a layout needs no detail of its own.
Screen-aware: a horizon sits about two thirds down a landscape canvas and a little higher on a portrait one,
where a phone's clock and dock leave the middle free.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import drawing as d
from .palettes import Palette, harmony

WORK = 192  # long side of the working canvas in px: shapes only, the painter adds the detail


def _sky(c: d.Canvas, rng: np.random.Generator, top: np.ndarray, bottom: np.ndarray) -> None:
    c.rgb = d.linear(c, top, bottom, np.pi / 2 + rng.uniform(-0.15, 0.15))


def _horizon_height(c: d.Canvas, rng: np.random.Generator) -> float:
    return rng.uniform(0.52, 0.66) if c.aspect < 1 else rng.uniform(0.56, 0.72)


def waves(c: d.Canvas, rng: np.random.Generator, pal: Palette) -> None:
    """Layered waves: bands stacked down the canvas, each edge a smooth random curve, lighter at its crest."""
    n = int(rng.integers(3, 7))
    colours = pal.ramp(n + 1)
    _sky(c, rng, colours[0], d.shade(colours[0][None, None], -0.08)[0, 0])
    start = rng.uniform(0.25, 0.55)
    period = rng.uniform(0.6, 1.6) * c.aspect
    for i in range(n):
        base = start + (1 - start) * i / n + rng.uniform(-0.03, 0.03)
        edge = base + d.wave(rng, c.x, rng.uniform(0.02, 0.09), int(rng.integers(1, 4)), period)
        depth = np.clip((c.y - edge) / 0.35, 0, 1)
        fill = d.shade(np.broadcast_to(colours[i + 1], c.rgb.shape), 0.06 - 0.12 * depth)
        c.paint(fill, c.soft(edge - c.y))


def ridges(c: d.Canvas, rng: np.random.Generator, pal: Palette) -> None:
    """Mountain ridges: a sky, perhaps a sun, then ridges whose far ones fade into the sky (aerial perspective)."""
    n = int(rng.integers(3, 6))
    colours = pal.ramp(n + 2)
    _sky(c, rng, colours[0], colours[1])
    if rng.random() < 0.5:
        _sun(c, rng, pal, rng.uniform(0.2, 0.45))
    top = rng.uniform(0.3, 0.5)
    for i in range(n):
        base = top + (0.9 - top) * (i + 0.5) / n
        edge = base + d.ridge(rng, c.x, rng.uniform(0.04, 0.12) * (1 + 0.3 * (n - i) / n))
        haze = (n - 1 - i) / max(n - 1, 1) * 0.6
        colour = d.mix(colours[i + 2], colours[1], np.full(c.y.shape, haze))
        fill = d.shade(colour, -0.08 * np.clip((c.y - edge) / 0.3, 0, 1))
        c.paint(fill, c.soft(edge - c.y))


def _sun(c: d.Canvas, rng: np.random.Generator, pal: Palette, height: float) -> None:
    cx, r = rng.uniform(0.15, 0.85) * c.aspect, rng.uniform(0.06, 0.16)
    dist = np.hypot(c.x - cx, c.y - height)
    glow = np.exp(-((dist / (r * 3)) ** 2)) * 0.6
    c.paint(np.array(pal.accent), glow)
    c.paint(d.shade(np.broadcast_to(pal.accent, c.rgb.shape), 0.05), c.soft(dist - r))


def horizon(c: d.Canvas, rng: np.random.Generator, pal: Palette) -> None:
    """A horizon with a sun: a sky gradient, a sun and its glow, a darker sea or land below with the sun's
    reflection, the line where a wallpaper's horizon usually sits."""
    colours = pal.ramp(5)
    line = _horizon_height(c, rng)
    _sky(c, rng, colours[0], colours[1])
    _sun(c, rng, pal, line - rng.uniform(0.05, 0.25))
    below = d.linear(c, colours[3], colours[4], np.pi / 2, line, 1.0)
    c.paint(below, c.soft(line - c.y))
    if rng.random() < 0.6:  # water: the sun's light as a soft column on it
        cx = rng.uniform(0.3, 0.7) * c.aspect
        column = np.exp(-(((c.x - cx) / rng.uniform(0.04, 0.12)) ** 2)) * (c.y > line) * 0.45
        c.paint(np.array(pal.accent), column * np.clip(1 - (c.y - line) / (1 - line + 1e-6), 0, 1))


def blobs(c: d.Canvas, rng: np.random.Generator, pal: Palette) -> None:
    """A blob scene: a few large soft shapes (each a union of circles) shaded from a light side, on a field."""
    colours = pal.ramp(6)
    c.rgb = d.linear(c, colours[0], colours[1], rng.uniform(0, 2 * np.pi))
    light = rng.uniform(0, 2 * np.pi)
    for i in range(int(rng.integers(3, 7))):
        cx, cy, r = rng.uniform(-0.1, 1.1) * c.aspect, rng.uniform(-0.1, 1.1), rng.uniform(0.15, 0.5)
        field = np.full(c.y.shape, np.inf)
        for _ in range(int(rng.integers(1, 4))):  # a blob: circles around its centre, merged smoothly
            ox, oy, rr = rng.normal(0, r / 2), rng.normal(0, r / 2), r * rng.uniform(0.5, 1.0)
            field = np.minimum(field, np.hypot(c.x - cx - ox, c.y - cy - oy) - rr)
        colour = colours[2 + i % 4] if rng.random() < 0.8 else np.array(pal.accent)
        side = np.cos(light) * (c.x - cx) + np.sin(light) * (c.y - cy)
        c.paint(d.shade(np.broadcast_to(colour, c.rgb.shape), -0.12 * np.clip(side / r, -1, 1)), c.soft(field))


def planes(c: d.Canvas, rng: np.random.Generator, pal: Palette) -> None:
    """Diagonal or curved planes: the canvas cut by a few edge-to-edge curves, each part its own gradient."""
    n = int(rng.integers(2, 5))
    colours = pal.ramp(n + 2)
    c.rgb = d.linear(c, colours[0], colours[1], rng.uniform(0, np.pi))
    slope = rng.uniform(-0.6, 0.6)
    for i in range(n):
        offset = (i + 1) / (n + 1) + rng.uniform(-0.08, 0.08)
        bend = rng.uniform(-0.25, 0.25)
        u = c.x / c.aspect
        edge = offset + slope * (u - 0.5) + bend * (u - 0.5) ** 2 * 4
        grad = d.linear(c, colours[i + 1], colours[i + 2], rng.uniform(0, 2 * np.pi))
        c.paint(grad, c.soft(edge - c.y))


def ribbons(c: d.Canvas, rng: np.random.Generator, pal: Palette) -> None:
    """Ribbons and arcs: a few thick bands along smooth curves, shaded across their width like a fold."""
    colours = pal.ramp(5)
    c.rgb = d.linear(c, colours[0], colours[4], rng.uniform(0, np.pi))
    for i in range(int(rng.integers(2, 5))):
        centre = rng.uniform(0.2, 0.8) + d.wave(rng, c.x, rng.uniform(0.05, 0.2), 2, rng.uniform(1, 2) * c.aspect)
        width = rng.uniform(0.04, 0.14) * (1 + 0.5 * np.sin(c.x * rng.uniform(1, 4) + rng.uniform(0, 6)))
        across = (c.y - centre) / width
        colour = colours[1 + i % 3] if rng.random() < 0.7 else np.array(pal.accent)
        fill = d.shade(np.broadcast_to(colour, c.rgb.shape), 0.1 * (1 - np.abs(across)) - 0.05)
        c.paint(fill, c.soft(np.abs(c.y - centre) - width))


def rings(c: d.Canvas, rng: np.random.Generator, pal: Palette) -> None:
    """Rings: concentric bands around a centre that may sit off the canvas (a planet's limb, ripples)."""
    colours = pal.ramp(6)
    cx = rng.uniform(-0.3, 1.3) * c.aspect
    cy = rng.uniform(0.6, 1.6) if rng.random() < 0.6 else rng.uniform(-0.3, 1.3)
    dist = np.hypot(c.x - cx, c.y - cy)
    c.rgb = d.radial(c, colours[0], colours[1], cx, cy, dist.max())
    radii = np.sort(rng.uniform(0.2, 1.2, int(rng.integers(3, 7))))[::-1]
    for i, r in enumerate(radii):
        fill = d.radial(c, colours[2 + i % 4], d.shade(colours[2 + i % 4][None, None], -0.1)[0, 0], cx, cy, r)
        c.paint(fill, c.soft(dist - r))


def mesh(c: d.Canvas, rng: np.random.Generator, pal: Palette) -> None:
    """A gradient mesh: colours pinned at a few points and blended smoothly in between (Gaussian weights)."""
    n = int(rng.integers(4, 9))
    colours = [*pal.ramp(5), np.array(pal.accent)]
    px, py = rng.uniform(-0.1, 1.1, n) * c.aspect, rng.uniform(-0.1, 1.1, n)
    spread = rng.uniform(0.25, 0.5)
    weights = np.stack([np.exp(-((c.x - x) ** 2 + (c.y - y) ** 2) / spread**2) for x, y in zip(px, py)])
    weights /= weights.sum(0, keepdims=True) + 1e-9
    picks = rng.integers(0, len(colours), n)
    c.rgb = np.einsum("nhw,nc->hwc", weights, np.stack([colours[k] for k in picks]))


FAMILIES: dict[str, Callable[[d.Canvas, np.random.Generator, Palette], None]] = {
    "waves": waves,
    "ridges": ridges,
    "horizon": horizon,
    "blobs": blobs,
    "planes": planes,
    "ribbons": ribbons,
    "rings": rings,
    "mesh": mesh,
}


def design(
    seed: int,
    height: int,
    width: int,
    *,
    family: str | None = None,
    palette: Palette | None = None,
    texture: float = 1.0,
) -> tuple[np.ndarray, str]:
    """The seed's designed layout at the aspect of height x width, on a working canvas of WORK px on its long
    side: ([h, w, 3] in [0, 1], the family's name). `family` None picks one by the seed, and so does a
    palette None (by a harmony rule). `texture` scales the smooth random variation that mottles it
    (drawing.clouds; 0: flat fills)."""
    rng = np.random.default_rng(seed)
    name = family or str(rng.choice(list(FAMILIES)))
    if name not in FAMILIES:
        raise ValueError(f"unknown layout family {name!r}; choose one of {', '.join(FAMILIES)}")
    pal = palette or harmony(rng)
    scale = WORK / max(height, width)
    c = d.Canvas(max(8, round(height * scale)), max(8, round(width * scale)))
    FAMILIES[name](c, rng, pal)
    if rng.random() < 0.5 and name not in ("horizon", "ridges", "waves"):  # no up or down: either way round
        c.rgb = c.rgb[:, ::-1]
    if texture:  # mottled, not flat: the painter elaborates variation it is given
        c.rgb = d.shade(c.rgb, texture * rng.uniform(0.03, 0.07) * d.clouds(rng, c))
    return np.clip(c.rgb, 0, 1), name
