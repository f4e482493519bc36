"""The Upscale tab: enlarge a picture ×2, ×4 or to a size with new detail (Lanczos, then img2img at a low
strength): its layout, its actions and their input checks, its events, and its cost.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import gradio as gr

from patchdm_core.sampling.solvers import sampling_params

from ..shared.actions import BaseActions, img2img_strength
from ..shared.components import upload_image
from ..shared.cost import evaluations, megapixels
from ..shared.events import BaseEvents
from ..shared.imaging import InputError, PictureSource, check_canvas, load_picture, number, size_input
from ..shared.jobs import Update, pick_seed
from ..shared.tab import QUICK, Page, TabParts, job_endpoint
from ..shared.widgets import result_panel, sampling_controls, send_row, solver_controls

UPSCALE_FACTORS = ("×2", "×4", "size")


class UpscaleActions(BaseActions):
    """Upscale and its plan line, as plain functions and generators of Updates."""

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
        strength = img2img_strength(strength)
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

    def upscale_cost(self, picture, factor, width, height, strength, steps, guidance, *rest) -> float:
        """Megapixel-steps of an Upscale job (the enlarged canvas at its strength), from its inputs."""
        img, _ = load_picture(picture, self.limits, self.p)
        w, h = self.upscale_size(img.width, img.height, factor, width, height)
        return megapixels(self, w, h) * evaluations(self, steps, guidance) * number("strength", strength)


class UpscaleEvents(BaseEvents):
    """Upscale's events with the signatures Gradio inspects."""

    def upscale(
        self,
        picture: Any,
        factor: str,
        width: float | None,
        height: float | None,
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
        """Enlarge a picture with new detail."""
        args = (picture, factor, width, height, strength, steps, guidance, seed, sampler, grid, eta)
        yield from self._job(request, progress, lambda flag: self.studio.upscale(*args, stop=flag))

    def upscale_plan(self, picture: Any, factor: str, width: float | None, height: float | None) -> str:
        """The plan line: the picture's size, the output's, the patches (no model involved)."""
        return self.studio.upscale_plan(picture, factor, width, height)


def tab(page: Page) -> TabParts:
    """Build the tab (inside gr.Tabs) and wire its plan line; the job's endpoint is registered by the page."""
    studio, ev = page.studio, page.ev
    with gr.Tab("Upscale", id="upscale"):
        with gr.Row():
            with gr.Column(scale=2):
                up_picture = upload_image(
                    sources=["upload", "clipboard"], label="Picture", height=260, elem_id="up-picture"
                )
                up_factor = gr.Radio(list(UPSCALE_FACTORS), value="×2", label="Enlarge", elem_id="up-factor")
                with gr.Row():
                    up_width = gr.Number(
                        2048, precision=0, minimum=16, maximum=65536, label="Width (size)", elem_id="up-width"
                    )
                    up_height = gr.Number(
                        1024, precision=0, minimum=16, maximum=65536, label="Height (size)", elem_id="up-height"
                    )
                up_plan = gr.Markdown(elem_id="up-plan")
                up_strength = gr.Slider(
                    0,
                    1,
                    value=0.4,
                    step=0.05,
                    label="Strength",
                    info="new detail: 0.3–0.5 keeps the picture, 0 is a plain Lanczos resize",
                    elem_id="up-strength",
                )
                up_steps, up_guidance, up_seed = sampling_controls(studio, "up")
                with gr.Accordion("Advanced", open=False):
                    up_sampler, up_grid, up_eta = solver_controls(studio, "up")
            with gr.Column(scale=3):
                up_go, up_stop, up_preview, up_result, up_status, up_seed_used, up_bar = result_panel("up", "Upscale")
                up_send = send_row("up", exclude="upscale")
    up_plan_in = [up_picture, up_factor, up_width, up_height]
    gr.on(
        [up_picture.change, up_factor.change, up_width.change, up_height.change],
        ev.upscale_plan,
        up_plan_in,
        up_plan,
        **QUICK,
    )
    inputs = [up_picture, up_factor, up_width, up_height, up_strength, up_steps, up_guidance, up_seed]
    inputs += [up_sampler, up_grid, up_eta]
    panel = (up_preview, up_result, up_status, up_seed_used, up_bar)
    job = job_endpoint(page, "upscale", up_go, inputs, panel)
    return TabParts(api={"upscale": job}, stop=up_stop, send=up_send, source=up_result, target=up_picture)
