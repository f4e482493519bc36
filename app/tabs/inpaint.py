"""The Inpaint tab: repaint the area painted over a picture (fast, or harmonized with RePaint resampling):
its layout, its actions and their input checks (the editor's picture and mask), its events, and its cost.

UI masks are PAINTED = REPAINT (what artists expect); core masks are 1 = KEEP. The conversion
happens here, once (`keep_mask`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import gradio as gr
import numpy as np
import torch
from PIL import Image
from torch import Tensor

from patchdm_core.editing.regions import evals_of, repaint_path
from patchdm_core.runtime.images import from_pil, repaint_mask
from patchdm_core.runtime.sizes import round_up
from patchdm_core.sampling.solvers import sampling_params

from ..shared.actions import BaseActions, edit_strength
from ..shared.components import mask_editor
from ..shared.cost import edit_share, evaluations, megapixels
from ..shared.events import BaseEvents
from ..shared.imaging import InputError, Limits, decode, editor_parts, flag, load_picture, number
from ..shared.jobs import Update, pick_seed
from ..shared.tab import Page, TabParts, job_endpoint
from ..shared.widgets import edit_strength_slider, result_panel, sampling_controls, send_row, solver_controls


class InpaintActions(BaseActions):
    """Inpaint, as a plain generator of Updates."""

    def inpaint(
        self,
        editor: Any,
        blur: float = 8,
        method: str = "fast",
        only_masked: bool = False,
        margin: float = 64,
        steps: float | None = None,
        guidance: float | None = None,
        seed: float = -1,
        sampler: str | None = None,
        grid: str | None = None,
        eta: float | None = None,
        strength: float | None = None,
        content: str = "fill",
        stop: threading.Event | None = None,
    ) -> Iterator[Update]:
        """Repaint the painted area of the editor's picture (strength None: the model's edit default).
        strength and content come last so that API clients written before them keep working."""
        if method not in ("fast", "harmonized"):
            raise InputError(f"method must be 'fast' or 'harmonized', got {method!r}")
        if content not in ("fill", "original"):
            raise InputError(f"start from must be 'fill' or 'original', got {content!r}")
        picture, painted, note = picture_and_mask(editor, self.limits, self.p)
        settings = self._settings(steps, guidance, sampler, grid, eta)
        blur, margin = number("blur", blur or 0, integer=True), number("margin", margin or 0, integer=True)
        strength = edit_strength(strength, settings["steps"], "inpaint")
        only_masked = flag("only masked", only_masked)
        s = pick_seed(seed)
        cells = (
            mask_cells(painted, self.p, margin + blur)
            if only_masked
            else (round_up(picture.width, self.p) // self.p) * (round_up(picture.height, self.p) // self.p)
        )
        it = self.pipe.inpaint(
            from_pil(picture),
            keep_mask(painted),
            seed=s,
            method=method,
            blur=blur,
            only_masked=bool(only_masked),
            margin=margin,
            strength=strength,
            content=content,
            **settings,
        )
        params: dict[str, object] = {
            **sampling_params(settings),
            "Mode": "inpaint",
            "Seed": s,
            "Size": f"{picture.width}x{picture.height}",
            "Inpaint": method,
            "Mask blur": blur,
            "Only masked": bool(only_masked),
            "Strength": strength,
            "Content": content,
        }
        if only_masked:
            params["Margin"] = margin
        yield from self._edit(it, cells, params, "inpaint", s, stop, note)

    def inpaint_cost(self, editor, blur, method, only_masked, margin, steps, guidance, *rest) -> float:
        """Megapixel-steps of an Inpaint job (harmonized: RePaint's resampling counted), from its inputs."""
        background, _ = editor_parts(editor)
        img, _ = load_picture(background, self.limits, self.p)
        evals = evaluations(self, steps, guidance) * edit_share(rest, "inpaint")
        if method == "harmonized":  # RePaint with the app's jump 5, 5 resamples
            n = max(1, int(evals // (1 if guidance == 1 else 2)))
            evals *= evals_of(repaint_path(list(range(n, 0, -1)), 5, 5)) / n
        return megapixels(self, img.width, img.height) * evals


class InpaintEvents(BaseEvents):
    """Inpaint's event with the signature Gradio inspects."""

    def inpaint(
        self,
        editor: Any,
        blur: float,
        method: str,
        only_masked: bool,
        margin: float,
        steps: float,
        guidance: float,
        seed: float,
        sampler: str | None,
        grid: str | None,
        eta: float | None,
        strength: float | None,
        content: str,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[tuple]:
        """Repaint the painted area of the picture."""
        args = (editor, blur, method, only_masked, margin, steps, guidance, seed, sampler, grid, eta, strength, content)
        yield from self._job(request, progress, lambda flag: self.studio.inpaint(*args, stop=flag))


def painted_pixels(layer: Image.Image) -> np.ndarray:
    """Bool [H,W] of strokes: alpha > 0 for editor layers; white > 50 % for opaque mask pictures (the
    command line reads mask files by the same rule)."""
    return repaint_mask(layer)


def keep_mask(painted: np.ndarray) -> Tensor:
    """UI repaint mask (bool [H,W], True = repaint) -> core keep mask [1,1,H,W] float (1 = keep)."""
    return torch.from_numpy((~painted).astype(np.float32))[None, None]


def picture_and_mask(value: Any, limits: Limits, p: int = 1) -> tuple[Image.Image, np.ndarray, str]:
    """An editor value -> (RGB picture, painted bool [H,W], note); InputError for empty/mismatched masks."""
    background, layers = editor_parts(value)
    picture, note = load_picture(background, limits, p)
    painted = np.zeros((picture.height, picture.width), dtype=bool)
    for src in layers:
        layer = decode(src, limits, 1, what="mask")
        if layer.size != picture.size:
            raise InputError(
                f"the mask is {layer.size[0]}×{layer.size[1]} but the picture is {picture.size[0]}×{picture.size[1]}; "
                "paint the mask on this picture again"
            )
        painted |= painted_pixels(layer)
    if not painted.any():
        raise InputError("the mask is empty: paint over the area to repaint first")
    return picture, painted, note


def mask_cells(painted: np.ndarray, p: int, margin: int) -> int:
    """Patches an only-masked run covers: the mask's bounding box plus margin, on the patch grid."""
    ys, xs = np.nonzero(painted)
    h, w = painted.shape
    r0, c0 = max(0, int(ys.min()) - margin) // p, max(0, int(xs.min()) - margin) // p
    r1, c1 = -(-min(h, int(ys.max()) + 1 + margin) // p), -(-min(w, int(xs.max()) + 1 + margin) // p)
    return (r1 - r0) * (c1 - c0)


def tab(page: Page) -> TabParts:
    """Build the tab (inside gr.Tabs); the job's endpoint is registered by the page."""
    studio = page.studio
    with gr.Tab("Inpaint", id="inpaint"):
        with gr.Row():
            with gr.Column(scale=3):
                editor = mask_editor(
                    label="Picture: paint over what to repaint",
                    sources=("upload", "clipboard"),
                    layers=False,
                    transforms=(),
                    brush=gr.Brush(colors=[("#ff2e88", 0.65)], color_mode="fixed"),
                    eraser=gr.Eraser(),
                    format="png",
                    height=460,
                    elem_id="inp-editor",
                )
            with gr.Column(scale=2):
                blur = gr.Slider(0, 64, value=8, step=1, label="Mask blur (px)")
                method = gr.Radio(
                    ["fast", "harmonized"],
                    value="fast",
                    label="Method",
                    info="harmonized = RePaint resampling, ~4.6× the time (no better than fast with the demo model)",
                )
                with gr.Row():
                    i_strength = edit_strength_slider(
                        "inpaint", "inp", "1: from pure noise; lower keeps more of the start"
                    )
                    content = gr.Radio(
                        ["fill", "original"],
                        value="fill",
                        label="Start from",
                        info="fill: the picture around it carried in (remove something); original: what is there",
                    )
                with gr.Row():
                    only_masked = gr.Checkbox(label="Only the masked area", value=False)
                    margin = gr.Slider(0, 256, value=64, step=16, label="Margin around it (px)")
                i_steps, i_guidance, i_seed = sampling_controls(studio, "inp")
                with gr.Accordion("Advanced", open=False):
                    i_sampler, i_grid, i_eta = solver_controls(studio, "inp")
        i_go, i_stop, i_preview, i_result, i_status, i_seed_used, i_bar = result_panel("inp", "Inpaint")
        i_send = send_row("inp", exclude="inpaint")
    inputs = [editor, blur, method, only_masked, margin, i_steps, i_guidance, i_seed, i_sampler, i_grid, i_eta]
    inputs += [i_strength, content]  # last: API clients written before them keep working
    job = job_endpoint(page, "inpaint", i_go, inputs, (i_preview, i_result, i_status, i_seed_used, i_bar))
    return TabParts(api={"inpaint": job}, stop=i_stop, send=i_send, source=i_result, target=editor)
