"""The Sketch tab: paint a wallpaper of any size that follows a colour sketch: its layout, its action and its
input checks (the sketch's layers composed), its events, and what a job needs.

The sketch is brought in by structure guidance (sampling/structure.py): its large shapes and colours hold at
every step and the model paints texture over the whole ladder with the sketch's own global code, so flat
brush strokes become a picture that keeps their layout (a landscape sketch at 512x256: 0.003 mean difference
16x-downsampled, img2img at 0.6 0.026, with as much texture); transparent parts carry no weight (painted
freely). "Variation of this sketch" keeps the old way, image-to-image from the sketch noised at a strength.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import gradio as gr
import numpy as np
import torch
from PIL import Image, ImageColor

from patchdm_core.runtime.images import from_pil
from patchdm_core.sampling.solvers import sampling_params
from patchdm_core.sampling.structure import Structure

from ..shared import controls, fit
from ..shared.actions import BaseActions, img2img_strength
from ..shared.components import mask_editor
from ..shared.cost import Need, levels, passes
from ..shared.events import BaseEvents
from ..shared.imaging import InputError, check_canvas, decode, editor_parts, number, size_input, size_note
from ..shared.jobs import Update, pick_seed
from ..shared.tab import QUICK, Page, TabParts, follow_up, job_endpoint
from ..shared.widgets import CUSTOM, PRESETS, result_panel, wire_size_picker

COLOURS = {
    "sky": "#87ceeb",
    "deep water": "#1d4e89",
    "grass": "#6dbb4a",
    "forest": "#1f5f2a",
    "sand": "#e3c98f",
    "earth": "#7a5230",
    "sun": "#ffd23f",
    "snow": "#ffffff",
    "night": "#20263a",
}
SKETCH_COLOURS = list(COLOURS.values())
HOWS = {"structure": "follow its layout (structure guidance)", "img2img": "variation of this sketch (image-to-image)"}


def legend() -> str:
    """The brush colours with their names (the editor's swatches show colours only)."""
    chips = "".join(
        f'<span class="pdm-chip"><i style="background:{hex_}"></i>{name}</span>' for name, hex_ in COLOURS.items()
    )
    return f'<div class="pdm-legend" id="sk-legend">Brush colours: {chips}</div>'


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
    """Sketch (structure guidance or img2img from a colour sketch), as a plain generator of Updates."""

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
        how: str = "structure",
        follow: float | None = None,
        preset: str | None = None,
        guidance_interval: str | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[Update]:
        """Paint a width x height wallpaper that follows the sketch's layout and colours: by structure guidance
        at `follow` (1: its large shapes exactly), or ("img2img") as a variation of it at `strength`."""
        need = self.sketch_need(editor, width, height, strength, steps, guidance, seed, sampler, grid, eta, how,
                                follow, preset, guidance_interval)  # fmt: skip
        self._check(need)
        width, height = need.width, need.height
        gw, gh = check_canvas(width, height, self.p, self.limits)
        sketch, transparent = compose_sketch(editor, self.limits, self.p)
        settings = self._settings(steps, guidance, sampler, grid, eta, preset, guidance_interval)
        s = pick_seed(seed)
        notes = [n for n in [size_note(width, height, self.p)] if n]
        if transparent:
            notes.append("transparent areas of the sketch are painted freely")
        params = {**sampling_params(settings), "Mode": "sketch", "Compose": how}
        if how == "structure":
            guide = sketch_structure(follow)
            layout = from_pil(sketch.convert("RGB"))
            weight = torch.from_numpy(np.asarray(sketch.getchannel("A"), dtype=np.float32) / 255)[None, None]
            # an opaque sketch's own code paints its strokes as textured as img2img does (a landscape sketch
            # at 512x256: 0.041 mean high band against 0.043, the prior's code 0.020); with transparent
            # parts, painted freely, the prior's code for the seed
            z = None if transparent else self.pipe.encode_style(sketch.convert("RGB"))
            it = self.pipe.generate(height, width, seed=s, z=z, layout=layout, layout_weight=weight, structure=guide,
                                    **settings)  # fmt: skip
            params |= {"Structure strength": guide.strength, "Structure band": guide.band}
            params |= {"Structure stop": guide.t_stop}
        else:
            strength = img2img_strength(strength)
            it = self.pipe.img2img(sketch, size=(height, width), strength=strength, seed=s, **settings)
            params["Strength"] = strength
        params |= {"Seed": s, "Size": f"{width}x{height}", "Source": f"sketch {sketch.width}x{sketch.height}"}
        yield from self._edit(it, (gw // self.p) * (gh // self.p), params, "sketch", s, stop, "; ".join(notes))

    def sketch_need(
        self, editor, width, height, strength=0.6, steps=None, guidance=None, seed=-1, sampler=None, grid=None,
        eta=None, how="structure", follow=None, preset=None, guidance_interval=None,
    ) -> Need:  # fmt: skip
        """What a Sketch job asks (structure: the whole ladder; img2img: its strength's share, transparent areas
        from pure noise), from its inputs."""
        w, h = size_input(width, height)
        if how not in HOWS:
            raise InputError(f"how must be one of {', '.join(HOWS)}, got {how!r}")
        settings = self._settings(steps, guidance, sampler, grid, eta, preset, guidance_interval)
        img2img_strength(strength), sketch_structure(follow)  # both checked, whichever way is used
        share = None
        if how == "img2img":
            _, transparent = compose_sketch(editor, self.limits, self.p)
            share = None if transparent else img2img_strength(strength)
        guided = float(settings["guidance"]) != 1
        return Need(w, h, passes(self, settings, share), guided=guided, steps=levels(settings, share))

    def sketch_plan(self, width, height, steps, guidance, sampler, how, strength, preset, interval) -> str:
        """The size, the steps and the time, before running it (the sketch itself is not needed)."""
        try:
            share = img2img_strength(strength) if how == "img2img" else None
            settings = self._settings(steps, guidance, sampler, None, None, preset, interval)
            w, h = size_input(width, height)
            guided = float(settings["guidance"]) != 1
            need = Need(w, h, passes(self, settings, share), guided=guided, steps=levels(settings, share))
        except InputError as exc:
            return f"⚠ {exc}"
        gw, gh = -(-w // self.p), -(-h // self.p)
        return fit.plan(self, need, f"{w}×{h} · {gw * gh} patches × {settings['steps']} steps")


def sketch_structure(follow: object) -> Structure:
    """The structure guidance of "follow the layout" from the UI (1 when empty)."""
    default = Structure()
    strength = default.strength if follow is None or follow == "" else number("follow", follow, lo=0, hi=1)
    return Structure(default.band, strength, default.t_stop)


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
        how: str,
        follow: float | None,
        preset: str | None,
        guidance_interval: str | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[tuple]:
        """Paint a wallpaper that follows a colour sketch (its layout, or a variation of it)."""
        args = (editor, width, height, strength, steps, guidance, seed, sampler, grid, eta, how, follow, preset)
        args += (guidance_interval,)
        yield from self._job(request, progress, lambda flag: self.studio.sketch(*args, stop=flag), kind="sketch")

    def sketch_plan(self, width, height, steps, guidance, sampler, how, strength, preset, interval) -> str:
        """The plan line (no model involved)."""
        return self.studio.sketch_plan(width, height, steps, guidance, sampler, how, strength, preset, interval)

    def sketch_how(self, how: str) -> tuple[Any, Any]:
        """Show the slider that the chosen way uses."""
        return gr.update(visible=how == "structure"), gr.update(visible=how == "img2img")

    def fill_canvas(self, colour: str, width: float, height: float) -> dict:
        """A new sketch canvas filled with one colour (the editor's value: background, no strokes)."""
        try:
            fill = ImageColor.getrgb(colour or "#ffffff")
        except ValueError:
            gr.Warning(f"not a colour: {colour!r}")
            fill = (255, 255, 255)
        return blank_canvas(fill, width, height)


def blank_canvas(fill: tuple[int, ...] = (135, 206, 235), width: Any = 1024, height: Any = 512) -> dict:
    """A sketch canvas filled with one colour, the output's shape (the editor's value: no strokes yet)."""
    w, h = sketch_canvas(width, height)
    return {"background": Image.new("RGBA", (w, h), (*fill[:3], 255)), "layers": [], "composite": None}


def settings_of(params: dict[str, str]) -> dict[str, Any]:
    """A past sketch's parameters as this tab's settings (History's "Use these settings")."""
    out: dict[str, Any] = {}
    if (size := params.get("Size", "")).count("x") == 1:
        w, h = size.split("x")
        out |= {"sk-size": CUSTOM, "sk-width": int(w), "sk-height": int(h)}
    out["sk-how"] = params.get("Compose", "img2img")  # pictures from before structure guidance were img2img
    for key, name in (("Strength", "sk-strength"), ("Structure strength", "sk-follow")):
        try:
            out[name] = float(params[key])
        except (KeyError, ValueError):
            pass
    return out | controls.settings_of(params, "sk")


def tab(page: Page) -> TabParts:
    """Build the tab (inside gr.Tabs) and wire its own helpers; the job's endpoint is registered by the page."""
    studio, ev = page.studio, page.ev
    with gr.Tab("Sketch", id="sketch", elem_classes=["pdm-keep-laid-out"], render_children=True):
        with gr.Row():
            with gr.Column(scale=3):
                sk_editor = mask_editor(
                    value=blank_canvas(),
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
                gr.HTML(legend(), padding=False)
                with gr.Row():
                    sk_colour = gr.ColorPicker("#87ceeb", label="Canvas colour", elem_id="sk-colour", scale=1)
                    sk_fill = gr.Button("New canvas in this colour", size="sm", elem_id="sk-fill", scale=2)
            with gr.Column(scale=2):
                sk_size = gr.Dropdown([*PRESETS, CUSTOM], value="1024×512", label="Output size", elem_id="sk-preset")
                with gr.Row():
                    sk_width = gr.Number(
                        1024, precision=0, minimum=16, maximum=65536, label="Width", elem_id="sk-width"
                    )
                    sk_height = gr.Number(
                        512, precision=0, minimum=16, maximum=65536, label="Height", elem_id="sk-height"
                    )
                plan = gr.Markdown(elem_id="sk-plan")
                how = gr.Radio([(v, k) for k, v in HOWS.items()], value="structure", label="How", elem_id="sk-how")
                follow = gr.Slider(
                    0, 1, value=Structure().strength, step=0.05, label="Follow the layout", elem_id="sk-follow",
                    info="1: the sketch's large shapes and colours exactly; lower lets the model move them",
                )  # fmt: skip
                sk_strength = gr.Slider(
                    0, 1, value=0.6, step=0.05, label="Strength", visible=False, elem_id="sk-strength",
                    info="0 = the sketch itself; 1 = a new picture in its palette. Transparent = free",
                )  # fmt: skip
                c = controls.sampling_controls(studio, "sk")
                with gr.Accordion("Advanced", open=False):
                    controls.solver_controls(studio, "sk", c)
        panel = result_panel("sk", "Paint")
    wire_size_picker(page, sk_size, sk_width, sk_height)
    sk_fill.click(ev.fill_canvas, [sk_colour, sk_width, sk_height], sk_editor, **QUICK)
    how.change(ev.sketch_how, how, [follow, sk_strength], **QUICK)
    plan_in = [sk_width, sk_height, c.steps, c.guidance, c.sampler, how, sk_strength, c.preset, c.interval]
    changes = [sk_width.change, sk_height.change, c.steps.change, c.guidance.change, c.sampler.change]
    changes += [how.change, sk_strength.change, c.interval.change, page.demo.load]
    gr.on(changes, ev.sketch_plan, plan_in, plan, **QUICK, show_progress="hidden")
    inputs = [sk_editor, sk_width, sk_height, sk_strength, *controls.inputs(c), how, follow, c.preset, c.interval]
    job = job_endpoint(page, "sketch", inputs, panel)
    follow_up(page, "sketch", panel)
    keep = {"sk-size": sk_size, "sk-width": sk_width, "sk-height": sk_height, "sk-how": how, "sk-follow": follow}
    keep |= {"sk-strength": sk_strength, "sk-colour": sk_colour} | controls.keep(c, "sk")
    return TabParts(api={"sketch": job}, panel=panel, source=panel.result, target=sk_editor, keep=keep,
                    settings=settings_of)  # fmt: skip
