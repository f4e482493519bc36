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

from ..shared import controls, fit
from ..shared.actions import BaseActions, edit_strength
from ..shared.components import mask_editor
from ..shared.cost import Need, levels, passes, steps_run
from ..shared.events import BaseEvents
from ..shared.imaging import InputError, Limits, decode, editor_parts, flag, load_picture, number
from ..shared.jobs import Update, pick_seed
from ..shared.tab import QUICK, Page, TabParts, follow_up, job_endpoint
from ..shared.widgets import edit_strength_slider, result_panel


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
        preset: str | None = None,
        guidance_interval: str | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[Update]:
        """Repaint the painted area of the editor's picture (strength None: the model's edit default).
        The inputs after eta come last so that API clients written before them keep working."""
        if method not in ("fast", "harmonized"):
            raise InputError(f"method must be 'fast' or 'harmonized', got {method!r}")
        if content not in ("fill", "original"):
            raise InputError(f"start from must be 'fill' or 'original', got {content!r}")
        picture, painted, note = picture_and_mask(editor, self.limits, self.p)
        self._check(self.inpaint_need(editor, blur, method, only_masked, margin, steps, guidance, seed, sampler, grid,
                                      eta, strength, content, preset, guidance_interval))  # fmt: skip
        settings = self._settings(steps, guidance, sampler, grid, eta, preset, guidance_interval)
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

    def inpaint_need(
        self, editor, blur=8, method="fast", only_masked=False, margin=64, steps=None, guidance=None, seed=-1,
        sampler=None, grid=None, eta=None, strength=None, content="fill", preset=None, guidance_interval=None,
    ) -> Need:  # fmt: skip
        """What an Inpaint job asks (the picture; harmonized: RePaint's resampling counted), from its inputs."""
        background, _ = editor_parts(editor)
        img, _ = load_picture(background, self.limits, self.p)
        settings = self._settings(steps, guidance, sampler, grid, eta, preset, guidance_interval)
        share = edit_strength(strength, settings["steps"], "inpaint")
        unit, steps = float(passes(self, settings, share)), levels(settings, share)
        if method == "harmonized":  # RePaint with the app's jump 5, 5 resamples
            n = max(1, steps)
            unit *= evals_of(repaint_path(list(range(n, 0, -1)), 5, 5)) / n
            steps = evals_of(repaint_path(list(range(n, 0, -1)), 5, 5))
        return Need(img.width, img.height, unit, what="picture", guided=float(settings["guidance"]) != 1,
                    resizable=False, steps=steps)  # fmt: skip

    def inpaint_plan(self, editor, method, steps, guidance, sampler, strength, preset, interval) -> str:
        """What the job will repaint and how long it takes here, before running it."""
        background, _ = editor_parts(editor)
        if background is None:
            return "Upload a picture (or send one here), then paint over what to repaint."
        try:
            need = self.inpaint_need(editor, 8, method, False, 64, steps, guidance, -1, sampler,
                                     strength=strength, preset=preset, guidance_interval=interval)  # fmt: skip
            settings = self._settings(steps, guidance, sampler, None, None, preset, interval)
            runs = steps_run(settings, edit_strength(strength, settings["steps"], "inpaint"))
        except InputError as exc:
            return f"⚠ {exc}"
        gw, gh = -(-need.width // self.p), -(-need.height // self.p)
        return fit.plan(self, need, f"{need.width}×{need.height} · {gw * gh} patches × {runs}")


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
        preset: str | None,
        guidance_interval: str | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[tuple]:
        """Repaint the painted area of the picture."""
        args = (editor, blur, method, only_masked, margin, steps, guidance, seed, sampler, grid, eta, strength, content)
        args += (preset, guidance_interval)
        yield from self._job(request, progress, lambda flag: self.studio.inpaint(*args, stop=flag), kind="inpaint")

    def inpaint_plan(self, editor, method, steps, guidance, sampler, strength, preset, interval) -> str:
        """The plan line (no model involved)."""
        return self.studio.inpaint_plan(editor, method, steps, guidance, sampler, strength, preset, interval)


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


def settings_of(params: dict[str, str]) -> dict[str, Any]:
    """A past inpaint's parameters as this tab's settings (History's "Use these settings")."""
    out: dict[str, Any] = {"inp-method": params["Inpaint"]} if "Inpaint" in params else {}
    for key, name in (("Mask blur", "inp-blur"), ("Margin", "inp-margin"), ("Strength", "inp-strength")):
        try:
            out[name] = float(params[key])
        except (KeyError, ValueError):
            pass
    out |= {"inp-only-masked": params.get("Only masked") == "True"}
    out |= {"inp-content": params["Content"]} if "Content" in params else {}
    return out | controls.settings_of(params, "inp")


def tab(page: Page) -> TabParts:
    """Build the tab (inside gr.Tabs); the job's endpoint is registered by the page."""
    studio, ev = page.studio, page.ev
    with gr.Tab("Inpaint", id="inpaint", elem_classes=["pdm-keep-laid-out"], render_children=True):
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
                plan = gr.Markdown(elem_id="inp-plan")
            with gr.Column(scale=2):
                blur = gr.Slider(0, 64, value=8, step=1, label="Mask blur (px)", elem_id="inp-blur")
                method = gr.Radio(
                    ["fast", "harmonized"],
                    value="fast",
                    label="Method",
                    info="harmonized = RePaint resampling, ~4.6× the time (no better than fast with the demo model)",
                    elem_id="inp-method",
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
                        elem_id="inp-content",
                    )
                with gr.Row():
                    only_masked = gr.Checkbox(label="Only the masked area", value=False, elem_id="inp-only-masked")
                    margin = gr.Slider(0, 256, value=64, step=16, label="Margin around it (px)", elem_id="inp-margin")
                c = controls.sampling_controls(studio, "inp")
                with gr.Accordion("Advanced", open=False):
                    controls.solver_controls(studio, "inp", c)
        panel = result_panel("inp", "Inpaint")
    plan_in = [editor, method, c.steps, c.guidance, c.sampler, i_strength, c.preset, c.interval]
    # not on every stroke: the plan needs the picture, and a stroke would send the editor's layers each time
    changes = [editor.upload, editor.clear, method.change, c.steps.change, c.guidance.change, c.sampler.change]
    changes += [i_strength.change, c.interval.change]
    gr.on(changes, ev.inpaint_plan, plan_in, plan, **QUICK, show_progress="hidden", trigger_mode="always_last")
    inputs = [editor, blur, method, only_masked, margin, *controls.inputs(c), i_strength, content]
    inputs += [c.preset, c.interval]  # last: API clients written before them keep working
    job = job_endpoint(page, "inpaint", inputs, panel)
    follow_up(page, "inpaint", panel)
    keep = {"inp-blur": blur, "inp-method": method, "inp-strength": i_strength, "inp-content": content}
    keep |= {"inp-only-masked": only_masked, "inp-margin": margin} | controls.keep(c, "inp")
    return TabParts(api={"inpaint": job}, panel=panel, source=panel.result, target=editor, keep=keep,
                    settings=settings_of, refresh=(ev.inpaint_plan, plan_in, plan))  # fmt: skip
