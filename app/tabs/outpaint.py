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

from ..shared.actions import BaseActions, edit_strength
from ..shared.components import upload_image
from ..shared.cost import edit_share, evaluations, megapixels
from ..shared.events import BaseEvents
from ..shared.imaging import GRID, InputError, PictureSource, check_canvas, load_picture, number, snap
from ..shared.jobs import Update, pick_seed
from ..shared.tab import Page, TabParts, job_endpoint
from ..shared.widgets import edit_strength_slider, result_panel, sampling_controls, send_row, solver_controls


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
        stop: threading.Event | None = None,
    ) -> Iterator[Update]:
        """Grow the picture by the given pixels per side and paint the new area."""
        img, note = load_picture(picture, self.limits, self.p)
        pad = self.outpaint_pad(top, right, bottom, left)
        gw, gh = check_canvas(
            img.width + pad[1] + pad[3], img.height + pad[0] + pad[2], self.p, self.limits, "grown canvas"
        )
        settings = self._settings(steps, guidance, sampler, grid, eta)
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

    def outpaint_cost(self, picture, top, right, bottom, left, feather, steps, guidance, *rest) -> float:
        """Megapixel-steps of an Outpaint job (the grown canvas), from the inputs the action gets."""
        img, _ = load_picture(picture, self.limits, self.p)
        pad = self.outpaint_pad(top, right, bottom, left)
        evals = evaluations(self, steps, guidance) * edit_share(rest, "outpaint")
        return megapixels(self, img.width + pad[1] + pad[3], img.height + pad[0] + pad[2]) * evals


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
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[tuple]:
        """Extend the picture beyond its borders."""
        args = (picture, top, right, bottom, left, feather, steps, guidance, seed, sampler, grid, eta, strength)
        yield from self._job(request, progress, lambda flag: self.studio.outpaint(*args, stop=flag))

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
                    feather = gr.Slider(0, 128, value=32, step=4, label="Seam feather (px)")
                    o_strength = edit_strength_slider(
                        "outpaint", "out", "1: from pure noise; lower keeps the border's colours"
                    )
                o_steps, o_guidance, o_seed = sampling_controls(studio, "out")
                with gr.Accordion("Advanced", open=False):
                    o_sampler, o_grid, o_eta = solver_controls(studio, "out")
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
                o_go, o_stop, o_preview, o_result, o_status, o_seed_used, o_bar = result_panel("out", "Outpaint")
                o_send = send_row("out", exclude="outpaint")
    inputs = [picture, top, right, bottom, left, feather, o_steps, o_guidance, o_seed, o_sampler, o_grid, o_eta]
    inputs += [o_strength]
    job = job_endpoint(page, "outpaint", o_go, inputs, (o_preview, o_result, o_status, o_seed_used, o_bar))

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
    return TabParts(api=api, stop=o_stop, send=o_send, source=o_result, target=picture)
