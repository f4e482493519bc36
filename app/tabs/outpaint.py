"""The Outpaint tab: grow a picture by some pixels per side and paint the new area: its layout, its actions and
their input checks (extensions on the 64-px grid), the sketch of the grown canvas, its events, and its cost.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw

from patchdm_core.runtime.images import from_pil
from patchdm_core.sampling.solvers import sampling_params

from ..shared import controls, fit
from ..shared.actions import BaseActions, edit_strength
from ..shared.components import upload_image
from ..shared.cost import Need, levels, passes, steps_run
from ..shared.events import BaseEvents
from ..shared.imaging import GRID, InputError, PictureSource, check_canvas, load_picture, number, snap
from ..shared.jobs import Update, pick_seed
from ..shared.tab import QUICK, Page, TabParts, follow_up, job_endpoint
from ..shared.widgets import edit_strength_slider, result_panel

SIDES = ("top", "right", "bottom", "left")


class OutpaintActions(BaseActions):
    """Outpaint and the sketch of its grown canvas, as plain functions and generators of Updates."""

    def outpaint_pad(self, top: float, right: float, bottom: float, left: float) -> tuple[int, int, int, int]:
        """Extensions snapped to the 64-px grid (InputError when all are zero)."""
        pad = tuple(snap(number("extend", v or 0)) for v in (top, right, bottom, left))
        if not any(pad):
            raise InputError(f"nothing to extend: give at least one side {GRID} px or more")
        return pad  # type: ignore[return-value]

    def outpaint_layout(
        self, picture: PictureSource, top: float, right: float, bottom: float, left: float, feather: float = 32
    ) -> tuple[Image.Image, str]:
        """A sketch of the grown canvas and its size, before running."""
        img, note = load_picture(picture, self.limits, self.p)
        pad = self.outpaint_pad(top, right, bottom, left)
        w, h = img.width + pad[1] + pad[3], img.height + pad[0] + pad[2]
        gw, gh = check_canvas(w, h, self.p, self.limits, "grown canvas")
        text = f"{img.width}×{img.height} → {gw}×{gh} ({(gw // self.p) * (gh // self.p)} patches)"
        asked = [round(float(number("extend", v or 0))) for v in (top, right, bottom, left)]
        snapped = [f"{side} {a} → {b} px" for side, a, b in zip(SIDES, asked, pad) if a != b]
        if snapped:
            text += f" · painted on the {GRID}-px grid: " + ", ".join(snapped)
        feather = number("feather", feather or 0, integer=True)
        return draw_grown_canvas(img, pad, feather), text + (f" · {note}" if note else "")

    def outpaint(
        self,
        picture: PictureSource,
        top: float = 0,
        right: float = 256,
        bottom: float = 0,
        left: float = 0,
        feather: float = 32,
        steps: float | None = None,
        guidance: float | None = None,
        seed: float = -1,
        sampler: str | None = None,
        grid: str | None = None,
        eta: float | None = None,
        strength: float | None = None,
        preset: str | None = None,
        guidance_interval: str | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[Update]:
        """Grow the picture by the given pixels per side and paint the new area."""
        img, note = load_picture(picture, self.limits, self.p)
        pad = self.outpaint_pad(top, right, bottom, left)
        self._check(self.outpaint_need(picture, top, right, bottom, left, feather, steps, guidance, seed, sampler,
                                       grid, eta, strength, preset, guidance_interval))  # fmt: skip
        gw, gh = check_canvas(
            img.width + pad[1] + pad[3], img.height + pad[0] + pad[2], self.p, self.limits, "grown canvas"
        )
        settings = self._settings(steps, guidance, sampler, grid, eta, preset, guidance_interval)
        feather = number("feather", feather or 0, integer=True)
        s = pick_seed(seed)
        asked = tuple(round(float(v or 0)) for v in (top, right, bottom, left))
        if asked != pad:
            note = "; ".join(
                n for n in [note, f"extensions snapped to the {GRID}-px grid: {'/'.join(map(str, pad))}"] if n
            )
        strength = edit_strength(strength, settings["steps"], "outpaint")
        it = self.pipe.outpaint(from_pil(img), pad, seed=s, feather_px=feather, strength=strength, **settings)
        params: dict[str, object] = {
            **sampling_params(settings),
            "Mode": "outpaint",
            "Seed": s,
            "Size": f"{gw}x{gh}",
            "Extend": ",".join(map(str, pad)),
            "Feather": feather,
            "Strength": strength,
        }
        yield from self._edit(it, (gw // self.p) * (gh // self.p), params, "outpaint", s, stop, note)

    def outpaint_need(
        self, picture, top=0, right=256, bottom=0, left=0, feather=32, steps=None, guidance=None, seed=-1,
        sampler=None, grid=None, eta=None, strength=None, preset=None, guidance_interval=None,
    ) -> Need:  # fmt: skip
        """What an Outpaint job asks (the grown canvas), from the inputs the action gets."""
        img, _ = load_picture(picture, self.limits, self.p)
        pad = self.outpaint_pad(top, right, bottom, left)
        settings = self._settings(steps, guidance, sampler, grid, eta, preset, guidance_interval)
        share = edit_strength(strength, settings["steps"], "outpaint")
        unit, steps = passes(self, settings, share), levels(settings, share)
        w, h = img.width + pad[1] + pad[3], img.height + pad[0] + pad[2]
        guided = float(settings["guidance"]) != 1
        return Need(w, h, unit, what="grown canvas", guided=guided, resizable=False, steps=steps)

    def outpaint_plan(self, picture, top, right, bottom, left, steps, guidance, sampler, strength, preset, interval):
        """How long the job takes here (or why it cannot run), before running it."""
        if picture is None:
            return ""
        try:
            need = self.outpaint_need(picture, top, right, bottom, left, 32, steps, guidance, -1, sampler,
                                      strength=strength, preset=preset, guidance_interval=interval)  # fmt: skip
            settings = self._settings(steps, guidance, sampler, None, None, preset, interval)
            runs = steps_run(settings, edit_strength(strength, settings["steps"], "outpaint"))
        except InputError as exc:
            return f"⚠ {exc}"
        return fit.plan(self, need, f"{runs}")


class OutpaintEvents(BaseEvents):
    """Outpaint's events with the signatures Gradio inspects."""

    def outpaint(
        self,
        picture: Any,
        top: float,
        right: float,
        bottom: float,
        left: float,
        feather: float,
        steps: float,
        guidance: float,
        seed: float,
        sampler: str | None,
        grid: str | None,
        eta: float | None,
        strength: float | None,
        preset: str | None,
        guidance_interval: str | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[tuple]:
        """Extend the picture beyond its borders."""
        args = (picture, top, right, bottom, left, feather, steps, guidance, seed, sampler, grid, eta, strength)
        args += (preset, guidance_interval)
        yield from self._job(request, progress, lambda flag: self.studio.outpaint(*args, stop=flag), kind="outpaint")

    def outpaint_plan(self, picture, top, right, bottom, left, steps, guidance, sampler, strength, preset, interval):
        """The time line under the size (no model involved)."""
        return self.studio.outpaint_plan(picture, top, right, bottom, left, steps, guidance, sampler, strength,
                                         preset, interval)  # fmt: skip

    def snap_sides(self, top: Any, right: Any, bottom: Any, left: Any) -> list[Any]:
        """Each side as the 64-px multiple it is painted at, shown in its box (no change where it is one)."""
        out = []
        for v in (top, right, bottom, left):
            try:
                n = number("extend", v or 0)
            except InputError:
                out.append(gr.skip())
                continue
            out.append(snap(n) if snap(n) != n else gr.skip())
        return out

    def outpaint_layout(
        self, picture: Any, top: float, right: float, bottom: float, left: float, feather: float
    ) -> tuple[Any, str]:
        """A sketch of the grown canvas (no model involved)."""
        if picture is None:
            return None, "Upload a picture, then choose how far to extend each side."
        try:
            return self.studio.outpaint_layout(picture, top, right, bottom, left, feather)
        except InputError as exc:
            return None, f"⚠ {exc}"


def draw_grown_canvas(
    picture: Image.Image, pad: tuple[int, int, int, int], feather: int, max_side: int = 640
) -> Image.Image:
    """The grown canvas as a sketch: new area checkered, the old picture in place, the seam band marked."""
    top, right, bottom, left = pad
    w, h = picture.width + left + right, picture.height + top + bottom
    scale = min(1.0, max_side / max(w, h))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    cell = max(4, round(GRID * scale))
    board = ((np.arange(sh)[:, None] // cell + np.arange(sw)[None, :] // cell) % 2).astype(np.uint8)
    canvas = Image.fromarray(np.where(board[..., None] == 1, 200, 160).astype(np.uint8).repeat(3, axis=2))
    box = (
        round(left * scale),
        round(top * scale),
        round((left + picture.width) * scale),
        round((top + picture.height) * scale),
    )
    canvas.paste(picture.resize((max(1, box[2] - box[0]), max(1, box[3] - box[1])), Image.BILINEAR), box[:2])
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), outline=(255, 46, 136), width=2)
    f = round(feather * scale)
    if f > 1:  # the feather band reaches into the old picture on the extended sides
        x0, y0, x1, y1 = box[0], box[1], box[2] - 1, box[3] - 1
        band = (255, 200, 0)
        if top:
            draw.line((x0, y0 + f, x1, y0 + f), fill=band)
        if bottom:
            draw.line((x0, y1 - f, x1, y1 - f), fill=band)
        if left:
            draw.line((x0 + f, y0, x0 + f, y1), fill=band)
        if right:
            draw.line((x1 - f, y0, x1 - f, y1), fill=band)
    return canvas


def settings_of(params: dict[str, str]) -> dict[str, Any]:
    """A past outpaint's parameters as this tab's settings (History's "Use these settings")."""
    out: dict[str, Any] = {}
    sides = params.get("Extend", "").split(",")
    if len(sides) == 4 and all(v.isdigit() for v in sides):
        out |= {f"out-{side}": int(v) for side, v in zip(SIDES, sides)}
    for key, name in (("Feather", "out-feather"), ("Strength", "out-strength")):
        try:
            out[name] = float(params[key])
        except (KeyError, ValueError):
            pass
    return out | controls.settings_of(params, "out")


def tab(page: Page) -> TabParts:
    """Build the tab (inside gr.Tabs); its endpoints (the job, the layout sketch) are registered by the page."""
    studio, ev = page.studio, page.ev
    with gr.Tab("Outpaint", id="outpaint"):
        with gr.Row():
            with gr.Column(scale=2):
                picture = upload_image(
                    sources=["upload", "clipboard"],
                    label="Picture",
                    height=260,
                    elem_id="out-picture",
                )
                with gr.Row():
                    top = gr.Slider(0, 1024, value=0, step=64, label="Top (px)", elem_id="out-top")
                    bottom = gr.Slider(0, 1024, value=0, step=64, label="Bottom (px)", elem_id="out-bottom")
                with gr.Row():
                    left = gr.Slider(0, 1024, value=0, step=64, label="Left (px)", elem_id="out-left")
                    right = gr.Slider(0, 1024, value=256, step=64, label="Right (px)", elem_id="out-right")
                with gr.Row():
                    feather = gr.Slider(0, 128, value=32, step=4, label="Seam feather (px)", elem_id="out-feather")
                    o_strength = edit_strength_slider(
                        "outpaint", "out", "1: from pure noise; lower keeps the border's colours"
                    )
                c = controls.sampling_controls(studio, "out")
                with gr.Accordion("Advanced", open=False):
                    controls.solver_controls(studio, "out", c)
            with gr.Column(scale=3):
                layout = gr.Image(
                    label="New canvas layout (old picture outlined; feather band in yellow)",
                    format="jpeg",
                    type="pil",
                    interactive=False,
                    height=260,
                    buttons=["fullscreen"],
                    elem_id="out-layout",
                )
                size = gr.Markdown(elem_id="out-size")
                plan = gr.Markdown(elem_id="out-plan")
                panel = result_panel("out", "Outpaint")
    sides = [top, right, bottom, left]
    gr.on([s.release for s in sides], ev.snap_sides, sides, sides, **QUICK)
    inputs = [picture, *sides, feather, *controls.inputs(c), o_strength, c.preset, c.interval]
    job = job_endpoint(page, "outpaint", inputs, panel)
    follow_up(page, "outpaint", panel)
    plan_in = [picture, *sides, c.steps, c.guidance, c.sampler, o_strength, c.preset, c.interval]
    changes = [picture.change, *(s.change for s in sides), c.steps.change, c.guidance.change, c.sampler.change]
    changes += [o_strength.change, c.interval.change]
    gr.on(changes, ev.outpaint_plan, plan_in, plan, **QUICK, show_progress="hidden", trigger_mode="always_last")

    def layout_sketch() -> Any:
        """The grown canvas, drawn as the sides change (public: API clients may ask for it too)."""
        return gr.on(
            [picture.change, top.release, right.release, bottom.release, left.release, feather.release],
            ev.outpaint_layout,
            [picture, top, right, bottom, left, feather],
            [layout, size],
            api_name="outpaint_layout",
            queue=False,
        )

    api = {"outpaint": job, "outpaint_layout": layout_sketch}
    keep = {"out-top": top, "out-right": right, "out-bottom": bottom, "out-left": left, "out-feather": feather}
    keep |= {"out-strength": o_strength} | controls.keep(c, "out")
    return TabParts(api=api, panel=panel, source=panel.result, target=picture, keep=keep, settings=settings_of)
