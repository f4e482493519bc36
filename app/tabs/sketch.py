"""The Sketch tab: paint a wallpaper of any size that follows a colour sketch (image-to-image): its layout, its
action and its input checks (the sketch's layers composed), its events, and its cost.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image, ImageColor

from patchdm_core.sampling.solvers import sampling_params

from ..shared.actions import BaseActions, img2img_strength
from ..shared.components import mask_editor
from ..shared.cost import evaluations, megapixels
from ..shared.events import BaseEvents
from ..shared.imaging import InputError, check_canvas, decode, editor_parts, number, size_input, size_note
from ..shared.jobs import Update, pick_seed
from ..shared.tab import QUICK, Page, TabParts, job_endpoint
from ..shared.widgets import (
    CUSTOM,
    PRESETS,
    result_panel,
    sampling_controls,
    send_row,
    solver_controls,
    wire_size_picker,
)

# sky, deep water, grass, forest, sand, earth, sun, snow, night
SKETCH_COLOURS = ["#87ceeb", "#1d4e89", "#6dbb4a", "#1f5f2a", "#e3c98f", "#7a5230", "#ffd23f", "#ffffff", "#20263a"]


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


class SketchActions(BaseActions):
    """Sketch (img2img from a colour sketch), as a plain generator of Updates."""

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
        strength = img2img_strength(strength)
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

    def sketch_cost(self, editor, width, height, strength, steps, guidance, *rest) -> float:
        """Megapixel-steps of a Sketch job (transparent areas paint from pure noise), from its inputs."""
        w, h = size_input(width, height)
        _, transparent = compose_sketch(editor, self.limits, self.p)
        share = 1.0 if transparent else number("strength", strength)
        return megapixels(self, w, h) * evaluations(self, steps, guidance) * share


def sketch_canvas(width: float | None, height: float | None, longest: int = 1024) -> tuple[int, int]:
    """A sketch canvas with the output's aspect ratio and its longer side `longest` px (the output
    size itself can be 4K; the sketch only carries the layout)."""
    try:
        w, h = size_input(width, height)
    except InputError:
        w, h = 1024, 512
    scale = longest / max(w, h)
    return max(16, round(w * scale)), max(16, round(h * scale))


class SketchEvents(BaseEvents):
    """Sketch's events with the signatures Gradio inspects."""

    def sketch(
        self,
        editor: Any,
        width: float,
        height: float,
        strength: float,
        steps: float,
        guidance: float,
        seed: float,
        sampler: str | None,
        grid: str | None,
        eta: float | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[tuple]:
        """Paint a wallpaper that follows a colour sketch (image-to-image)."""
        args = (editor, width, height, strength, steps, guidance, seed, sampler, grid, eta)
        yield from self._job(request, progress, lambda flag: self.studio.sketch(*args, stop=flag))

    def fill_canvas(self, colour: str, width: float, height: float) -> dict:
        """A new sketch canvas filled with one colour (the editor's value: background, no strokes)."""
        try:
            fill = ImageColor.getrgb(colour or "#ffffff")
        except ValueError:
            gr.Warning(f"not a colour: {colour!r}")
            fill = (255, 255, 255)
        w, h = sketch_canvas(width, height)
        return {"background": Image.new("RGBA", (w, h), (*fill[:3], 255)), "layers": [], "composite": None}


def tab(page: Page) -> TabParts:
    """Build the tab (inside gr.Tabs) and wire its own helpers; the job's endpoint is registered by the page."""
    studio, ev = page.studio, page.ev
    with gr.Tab("Sketch", id="sketch"):
        with gr.Row():
            with gr.Column(scale=3):
                sk_editor = mask_editor(
                    label="Sketch: paint the layout in colour, or upload a picture to start from",
                    sources=("upload", "clipboard"),
                    layers=False,
                    transforms=(),
                    canvas_size=(1024, 512),
                    brush=gr.Brush(colors=SKETCH_COLOURS, default_color=SKETCH_COLOURS[0], default_size=40),
                    eraser=gr.Eraser(default_size=40),
                    format="png",
                    height=460,
                    elem_id="sk-editor",
                )
                with gr.Row():
                    sk_colour = gr.ColorPicker("#87ceeb", label="Canvas colour", elem_id="sk-colour", scale=1)
                    sk_fill = gr.Button("New canvas in this colour", size="sm", elem_id="sk-fill", scale=2)
            with gr.Column(scale=2):
                sk_preset = gr.Dropdown([*PRESETS, CUSTOM], value="1024×512", label="Output size", elem_id="sk-preset")
                with gr.Row():
                    sk_width = gr.Number(
                        1024, precision=0, minimum=16, maximum=65536, label="Width", elem_id="sk-width"
                    )
                    sk_height = gr.Number(
                        512, precision=0, minimum=16, maximum=65536, label="Height", elem_id="sk-height"
                    )
                sk_strength = gr.Slider(
                    0,
                    1,
                    value=0.6,
                    step=0.05,
                    label="Strength",
                    info="0 = the sketch itself; 1 = a new picture in its palette. Transparent = free",
                    elem_id="sk-strength",
                )
                sk_steps, sk_guidance, sk_seed = sampling_controls(studio, "sk")
                with gr.Accordion("Advanced", open=False):
                    sk_sampler, sk_grid, sk_eta = solver_controls(studio, "sk")
        sk_go, sk_stop, sk_preview, sk_result, sk_status, sk_seed_used, sk_bar = result_panel("sk", "Paint")
        sk_send = send_row("sk", exclude="sketch")
    wire_size_picker(page, sk_preset, sk_width, sk_height)
    sk_fill.click(ev.fill_canvas, [sk_colour, sk_width, sk_height], sk_editor, **QUICK)
    inputs = [sk_editor, sk_width, sk_height, sk_strength, sk_steps, sk_guidance, sk_seed, sk_sampler, sk_grid]
    inputs += [sk_eta]
    panel = (sk_preview, sk_result, sk_status, sk_seed_used, sk_bar)
    job = job_endpoint(page, "sketch", sk_go, inputs, panel)
    return TabParts(api={"sketch": job}, stop=sk_stop, send=sk_send, source=sk_result, target=sk_editor)
