"""The Sketch and Upscale actions (mixed into Studio): image-to-image from a colour sketch or a picture,
and enlarging a picture with new detail. Plain generators of Updates, like the other actions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
from PIL import Image

from patchdm_core.sampling.solvers import sampling_params

from .imaging import (
    InputError,
    PictureSource,
    check_canvas,
    decode,
    editor_parts,
    load_picture,
    number,
    size_input,
    size_note,
)
from .jobs import Update, pick_seed

UPSCALE_FACTORS = ("×2", "×4", "size")


def compose_sketch(value: Any, limits: Any, p: int) -> tuple[Image.Image, bool]:
    """An editor value -> (RGBA sketch: background with every layer on top, any transparency kept),
    whether it has transparent areas. InputError when nothing is there."""
    background, layers = editor_parts(value)
    parts = [decode(src, limits, 1, what="sketch") for src in ([background] if background is not None else []) + layers]
    if not parts:
        raise InputError("the sketch is empty: paint on the canvas or upload a picture first")
    sketch = Image.new("RGBA", parts[0].size, (0, 0, 0, 0))
    for part in parts:
        if part.size != sketch.size:
            raise InputError(
                f"a sketch layer is {part.size[0]}×{part.size[1]}, the canvas {sketch.size[0]}×{sketch.size[1]}"
            )
        sketch.alpha_composite(part.convert("RGBA"))
    alpha = np.asarray(sketch.getchannel("A"))
    if alpha.max() < 128:
        raise InputError("the sketch is empty: paint on the canvas or upload a picture first")
    return sketch, bool(alpha.min() < 255)


class SteeringActions:
    """Sketch (img2img) and Upscale; needs Studio's pipe, limits, p, _settings and _edit."""

    def sketch(
        self,
        editor: Any,
        width: float,
        height: float,
        strength: float = 0.6,
        steps: float | None = None,
        guidance: float | None = None,
        seed: float = -1,
        sampler: str | None = None,
        grid: str | None = None,
        eta: float | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[Update]:
        """Paint a width x height wallpaper that follows the sketch's layout and colours."""
        width, height = size_input(width, height)
        gw, gh = check_canvas(width, height, self.p, self.limits)
        strength = _strength(strength)
        sketch, transparent = compose_sketch(editor, self.limits, self.p)
        settings = self._settings(steps, guidance, sampler, grid, eta)
        s = pick_seed(seed)
        notes = [n for n in [size_note(width, height, self.p)] if n]
        if transparent:
            notes.append("transparent areas of the sketch are painted freely")
        it = self.pipe.img2img(sketch, size=(height, width), strength=strength, seed=s, **settings)
        params = {
            **sampling_params(settings),
            "Mode": "sketch",
            "Strength": strength,
            "Seed": s,
            "Size": f"{width}x{height}",
            "Source": f"sketch {sketch.width}x{sketch.height}",
        }
        yield from self._edit(it, (gw // self.p) * (gh // self.p), params, "sketch", s, stop, "; ".join(notes))

    def upscale(
        self,
        picture: PictureSource,
        factor: str = "×2",
        width: float | None = None,
        height: float | None = None,
        strength: float = 0.4,
        steps: float | None = None,
        guidance: float | None = None,
        seed: float = -1,
        sampler: str | None = None,
        grid: str | None = None,
        eta: float | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[Update]:
        """Enlarge a picture ×2, ×4 or to a size: Lanczos, then img2img at a low strength for new detail."""
        img, note = load_picture(picture, self.limits, self.p)
        out_w, out_h = self.upscale_size(img.width, img.height, factor, width, height)
        gw, gh = check_canvas(out_w, out_h, self.p, self.limits, "upscaled picture")
        strength = _strength(strength)
        settings = self._settings(steps, guidance, sampler, grid, eta)
        s = pick_seed(seed)
        it = self.pipe.upscale(img, size=(out_h, out_w), strength=strength, seed=s, **settings)
        params = {
            **sampling_params(settings),
            "Mode": "upscale",
            "Strength": strength,
            "Seed": s,
            "Size": f"{out_w}x{out_h}",
            "Source": f"{img.width}x{img.height}",
        }
        yield from self._edit(it, (gw // self.p) * (gh // self.p), params, "upscale", s, stop, note)

    def upscale_size(
        self, width: int, height: int, factor: str, out_w: float | None, out_h: float | None
    ) -> tuple[int, int]:
        """The output size of an upscale: ×2, ×4, or the given size."""
        if factor in ("×2", "×4"):
            k = 2 if factor == "×2" else 4
            return width * k, height * k
        if factor != "size":
            raise InputError(f"unknown upscale factor {factor!r}; choose one of {', '.join(UPSCALE_FACTORS)}")
        return size_input(out_w, out_h)

    def upscale_plan(self, picture: PictureSource, factor: str, width: float | None, height: float | None) -> str:
        """'1024×512 → 2048×1024 (512 patches)' before running; problems come back as text."""
        if picture is None:
            return "Upload a picture (or send one here), then pick ×2, ×4 or a size."
        try:
            img, _ = load_picture(picture, self.limits, self.p)
            out_w, out_h = self.upscale_size(img.width, img.height, factor, width, height)
            gw, gh = check_canvas(out_w, out_h, self.p, self.limits, "upscaled picture")
        except InputError as exc:
            return f"⚠ {exc}"
        return f"{img.width}×{img.height} → {out_w}×{out_h} ({(gw // self.p) * (gh // self.p)} patches)"


def _strength(value: float | None) -> float:
    return number("strength", 0.6 if value is None or value == "" else value)


__all__ = ["SteeringActions", "UPSCALE_FACTORS", "compose_sketch"]
