"""Variations of any result (Fooocus's "Vary (subtle)" and "Vary (strong)"): the same picture, other strokes.

Both repaint the picture itself by image-to-image with a new seed, its own global code (PatchDM.encode_style
of the picture: its palette and style), and the sampling settings it was made with (its PNG parameters; the
model's defaults for a picture without them); they differ in strength, the share of the ladder repainted:

- subtle, 0.45: its layout stays (16x-downsampled, 0.008 mean absolute difference on the 0-1 scale; another
  seed's picture is 0.18 away) and about 40 % of its fine strokes are drawn anew (their correlation with the
  original's, above 4 px, 0.58), with the same amount of detail;
- strong, 0.6: the layout still holds (0.028) and almost every stroke is new (correlation 0.15), with the
  detail of a new picture (0.75 of the original's; another seed's 0.8).
Measured on the shipped model at 512x256 (scripts-free: tests/app/test_variations.py repeats it). Structure
guidance on the picture's own composition kept the layout tighter (0.006) but painted only 35-57 % of the
original's fine detail, and a re-drawn share of the starting noise (A1111's variation seed) needs the exact
recipe of a generated picture: these work on any result, an inpainted or upscaled one too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import gradio as gr

from patchdm_core.runtime.images import parse_infotext
from patchdm_core.sampling.solvers import LABELS, sampling_params

from .actions import BaseActions
from .controls import parse_interval
from .cost import Need, levels, passes
from .events import BaseEvents
from .history import read_parameters
from .imaging import InputError, PictureSource, load_picture
from .jobs import Update, pick_seed

STRENGTHS = {"subtle": 0.45, "strong": 0.6}  # the share of the ladder repainted (module doc)
HOWS = tuple(STRENGTHS)


class VaryActions(BaseActions):
    """Variations as plain generators of Updates."""

    def _vary_settings(self, picture: PictureSource) -> dict[str, object]:
        """The sampling settings the picture was painted with (the model's defaults where it does not say)."""
        params = parse_infotext(read_parameters(picture if isinstance(picture, str) else None))
        sampler = {label: key for key, label in LABELS.items()}.get(params.get("Sampler", ""))
        try:
            steps = int(params["Steps"]) if "Steps" in params else None
            guidance = float(params["Guidance"]) if "Guidance" in params else None
            interval = parse_interval(params.get("Guidance interval"))
        except (ValueError, InputError):
            steps = guidance = interval = None
        return self._settings(steps, guidance, sampler, params.get("Grid") or None, None, None, interval)

    def vary_need(self, picture: PictureSource, how: str = "subtle") -> Need:
        """What a variation asks (the picture's size; subtle: the share of the ladder it repaints)."""
        if how not in HOWS:
            raise InputError(f"vary must be subtle or strong, got {how!r}")
        img, _ = load_picture(picture, self.limits, self.p, what="picture to vary")
        settings = self._vary_settings(picture)
        unit, steps = passes(self, settings, STRENGTHS[how]), levels(settings, STRENGTHS[how])
        guided = float(settings["guidance"]) != 1
        return Need(img.width, img.height, unit, what="picture", guided=guided, resizable=False, steps=steps)

    def vary(
        self, picture: PictureSource, how: str = "subtle", stop: threading.Event | None = None
    ) -> Iterator[Update]:
        """A variation of a picture with a new seed (module doc); saved as its own picture."""
        if picture is None:
            raise InputError("there is no picture to vary yet: paint one first")
        self._check(self.vary_need(picture, how))
        img, note = load_picture(picture, self.limits, self.p, what="picture to vary")
        settings = self._vary_settings(picture)
        s = pick_seed(-1)
        z = self.pipe.encode_style(img)  # the picture's own code: its palette and style
        it = self.pipe.img2img(img, strength=STRENGTHS[how], seed=s, z=z, **settings)
        params: dict[str, object] = {**sampling_params(settings), "Mode": "vary", "Vary": how}
        params |= {"Strength": STRENGTHS[how], "Seed": s, "Size": f"{img.width}x{img.height}"}
        cells = (-(-img.width // self.p)) * (-(-img.height // self.p))
        yield from self._edit(it, cells, params, "vary", s, stop, note)


class VaryEvents(BaseEvents):
    """The Vary buttons' events, with the signature Gradio inspects."""

    def vary(
        self,
        picture: Any,
        how: str,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[tuple]:
        """A variation of a result: subtle (its fine detail anew) or strong (all its strokes anew, its shapes
        kept); a new seed, the picture's own code and settings."""
        yield from self._job(request, progress, lambda flag: self.studio.vary(picture, how, stop=flag), kind="vary")

    def vary_in(self, tab: str) -> Any:
        """The Vary event of one tab's panel (its job is that tab's: a reloaded page finds it there)."""

        def vary(
            picture: Any,
            how: str,
            request: gr.Request,
            progress: gr.Progress = gr.Progress(),  # noqa: B008
        ) -> Iterator[tuple]:
            yield from self._job(request, progress, lambda flag: self.studio.vary(picture, how, stop=flag), kind=tab)

        vary.__name__ = f"vary_{tab}"
        vary.__doc__ = VaryEvents.vary.__doc__
        return vary
