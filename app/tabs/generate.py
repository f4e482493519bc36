"""The Generate tab: paint a canvas of any size (a batch of seeds, tileable, on a composition, in a style):
its layout, its actions and their input checks, its events, and its cost.

Wired to the shared parts (app/shared); no other tab is imported here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from patchdm_core.composition.sources import DEFAULT_COMPOSITION, composition_name
from patchdm_core.sampling.palette import STRENGTH as PALETTE_STRENGTH
from patchdm_core.sampling.solvers import sampling_params
from patchdm_core.sampling.structure import Structure

from ..shared.actions import BaseActions
from ..shared.components import upload_image
from ..shared.cost import evaluations, megapixels
from ..shared.events import BaseEvents
from ..shared.imaging import InputError, PictureSource, check_canvas, flag, load_picture, number, size_input, size_note
from ..shared.jobs import Update, fmt_seconds, pick_seed, sample_updates
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

MODES = ("feature", "naive", "pixel", "sliding")
MODE_FACTOR = {"feature": 1.0, "naive": 1.0, "pixel": 1.0, "sliding": 3.4}  # cost; sliding: stride p/2 windows
COMPOSITION_LABELS = {
    "none": "none",
    "designed": "designed",
    "training-layouts": "training layouts",
    "layout-model": "layout model",
}


class GenerateActions(BaseActions):
    """Generate and its plan line, as plain generators of Updates."""

    def plan(self, width: float, height: float, steps: float | None) -> str:
        """'128 patches × 25 steps' (+ the off-grid note) for a canvas; problems come back as text."""
        try:
            width, height = size_input(width, height)
            gw, gh = check_canvas(width, height, self.p, self.limits)
            steps = self.defaults()[0] if steps is None or steps == "" else number("steps", steps, integer=True)
        except InputError as exc:
            return f"⚠ {exc}"
        note = size_note(int(width), int(height), self.p)
        text = f"{(gw // self.p) * (gh // self.p)} patches × {steps} steps"
        return f"{text} · {note}" if note else text

    def generate(
        self,
        width: float,
        height: float,
        steps: float | None = None,
        guidance: float | None = None,
        seed: float = -1,
        batch: float = 1,
        mode: str = "feature",
        tileable: bool = False,
        style: PictureSource = None,
        sampler: str | None = None,
        grid: str | None = None,
        eta: float | None = None,
        composition: str | None = DEFAULT_COMPOSITION,
        palette: float | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[Update]:
        """Paint `batch` canvases with seeds seed, seed+1, ...; previews, then each final PNG. A composition
        ("designed", "training-layouts", "layout-model"; composition/sources.py) paints each on the seed's layout
        from that source by structure guidance. `palette`:
        how strongly a style picture's colours steer the canvas (sampling/palette.py; None: the default)."""
        width, height = size_input(width, height)
        batch = 1 if batch is None or batch == "" else number("batch", batch, integer=True)
        tileable = flag("tileable", tileable)
        gw, gh = check_canvas(width, height, self.p, self.limits)
        settings = self._settings(steps, guidance, sampler, grid, eta)
        steps = int(settings["steps"])
        if mode not in MODES:
            raise InputError(f"unknown sampler mode {mode!r}; choose one of {', '.join(MODES)}")
        if tileable and mode != "feature":
            raise InputError("tileable output needs the feature sampler (Advanced → Sampler: feature)")
        palette = PALETTE_STRENGTH if palette is None or palette == "" else palette
        palette = number("style colours", palette, lo=0, hi=1)
        try:
            composition = composition_name(composition or "none")
        except ValueError as exc:
            raise InputError(str(exc)) from None
        if composition != "none" and composition not in self.layouts:
            beside = "WEIGHTS-layouts.png" if composition == "training-layouts" else "WEIGHTS-layout.safetensors"
            raise InputError(f"this model ships no {composition.replace('-', ' ')} ({beside} beside its weights file)")
        tile_grid = self.pipe.grid_size(height, width, True)[::-1] if tileable else None
        notes = [n for n in [size_note(width, height, self.p, tile_grid)] if n]
        z, style_name, reference = None, None, None
        if style is not None:
            picture, note = load_picture(style, self.limits, what="style reference")
            notes += [f"style reference: {note}"] if note else []
            z, reference = self.pipe.encode_style(picture), picture  # its global code and its colours
            style_name = Path(style).name if isinstance(style, (str, Path)) else "reference picture"
        first = pick_seed(seed)
        plan = f"{(gw // self.p) * (gh // self.p)} patches × {steps} steps"
        clock = {"start": time.perf_counter()}
        if notes:
            yield Update(f"{plan} · " + "; ".join(notes), seed=first, note="; ".join(notes))
        for i in range(batch):
            s = first + i
            label = f"{plan} · seed {s}" + (f" · image {i + 1}/{batch}" if batch > 1 else "")
            kw = dict(z=z, palette=reference, palette_strength=palette, mode=mode, tileable=tileable, **settings)
            if composition != "none":
                it = self.pipe.compose(self.layouts[composition], height, width, seed=s, **kw)
            else:
                it = self.pipe.generate(height, width, seed=s, **kw)
            x = yield from sample_updates(
                it,
                look=self.pipe.preview,
                label=lambda _, label=label: label,
                stop=stop,
                seed=s,
                clock=clock,
                done_before=i * steps,
                work=lambda t: t * batch,
            )
            if x is None:
                return
            params = {**sampling_params(settings, mode), "Seed": s, "Size": f"{width}x{height}"}
            if tileable:
                params["Tileable"] = "xy"
            if composition != "none":
                params |= {"Composition": composition, "Layout seed": s}
                family = getattr(self.layouts[composition], "last_family", None)
                params |= {"Layout family": family} if family else {}
                params |= {"Compose": "structure", "Structure strength": Structure().strength}
                params |= {"Structure band": Structure().band, "Structure stop": Structure().t_stop}
            if style_name:
                params["Style"] = style_name
                params["Palette strength"] = palette
            if batch > 1:
                params["Batch"] = f"{i + 1}/{batch}"
            path = self._finish(x, params, "generate", s)
            took = fmt_seconds(time.perf_counter() - clock["start"])
            yield Update(
                f"Done: {width}×{height}, seed {s}, {plan} in {took}"
                + (f" (image {i + 1}/{batch})" if batch > 1 else ""),
                final=path,
                seed=s,
                index=(i + 1) * steps,
                total=batch * steps,
                history_changed=True,
            )

    def generate_cost(self, width, height, steps, guidance, seed, batch, mode, *rest) -> float:
        """Megapixel-steps of a Generate job (shared/cost.py), from the inputs the action gets."""
        w, h = size_input(width, height)
        batch = 1 if batch in (None, "") else number("batch", batch, integer=True)
        return megapixels(self, w, h) * evaluations(self, steps, guidance) * batch * MODE_FACTOR.get(mode, 1.0)


class GenerateEvents(BaseEvents):
    """Generate's events with the signatures Gradio inspects."""

    def generate(
        self,
        width: float,
        height: float,
        steps: float,
        guidance: float,
        seed: float,
        batch: float,
        mode: str,
        tileable: bool,
        style: Any,
        sampler: str | None,
        grid: str | None,
        eta: float | None,
        composition: str | None,
        palette: float | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's documented idiom
    ) -> Iterator[tuple]:
        """Paint a canvas: previews while it runs, then the PNG."""
        args = (width, height, steps, guidance, seed, batch, mode, tileable, style, sampler, grid, eta, composition)
        args += (palette,)
        yield from self._job(request, progress, lambda flag: self.studio.generate(*args, stop=flag))

    def plan(self, width: float, height: float, steps: float) -> str:
        """The plan line under the canvas size (no model involved)."""
        return self.studio.plan(width, height, steps)


def reuse_seed(seed: Any) -> Any:
    """The seed of the last picture, back into the Seed box."""
    return seed


def tab(page: Page) -> TabParts:
    """Build the tab (inside gr.Tabs) and wire its own helpers; the job's endpoint is registered by the page."""
    studio, ev = page.studio, page.ev
    with gr.Tab("Generate", id="generate"):
        with gr.Row():
            with gr.Column(scale=2):
                preset = gr.Dropdown([*PRESETS, CUSTOM], value="1024×512", label="Canvas", elem_id="gen-preset")
                with gr.Row():
                    width = gr.Number(1024, precision=0, minimum=16, maximum=65536, label="Width", elem_id="gen-width")
                    height = gr.Number(
                        512, precision=0, minimum=16, maximum=65536, label="Height", elem_id="gen-height"
                    )
                plan = gr.Markdown(elem_id="gen-plan")
                steps, guidance, seed = sampling_controls(studio, "gen")
                batch = gr.Slider(1, 8, value=1, step=1, label="Batch count (seed, seed+1, …)")
                tileable = gr.Checkbox(label="Tileable (wraps around: the picture tiles without seams)")
                composition = gr.Radio(
                    [(COMPOSITION_LABELS[c], c) for c in ["none", *studio.layouts]],
                    value=DEFAULT_COMPOSITION,
                    label="Composition",
                    info="paint on large shapes: a designed layout (waves, ridges, a horizon, blobs, …), a training "
                    "picture's, or one from the layout model (picked by the seed)",
                    elem_id="gen-composition",
                )
                style = upload_image(
                    sources=["upload", "clipboard"],
                    label="Style reference (optional)",
                    height=180,
                    elem_id="gen-style",
                )
                palette = gr.Slider(
                    0,
                    1,
                    value=PALETTE_STRENGTH,
                    step=0.05,
                    label="Style colours",
                    info="how strongly the style picture's colours steer the canvas (0: its global code only)",
                    elem_id="gen-palette",
                )
                with gr.Accordion("Advanced", open=False):
                    g_sampler, g_grid, g_eta = solver_controls(studio, "gen")
                    mode = gr.Radio(
                        list(MODES),
                        value="feature",
                        label="Patch joining",
                        info="feature = Patch-DM feature collage; naive, pixel, sliding for comparison",
                    )
            with gr.Column(scale=3):
                go, stop, g_preview, g_result, g_status, g_seed, g_bar = result_panel("gen", "Generate")
                with gr.Row():
                    reuse = gr.Button("Reuse seed", size="sm")
                g_send = send_row("gen", exclude="generate")
    wire_size_picker(page, preset, width, height)
    plan_in = [width, height, steps]
    gr.on([page.demo.load, width.change, height.change, steps.change], ev.plan, plan_in, plan, **QUICK)
    reuse.click(reuse_seed, g_seed, seed, **QUICK)
    inputs = [width, height, steps, guidance, seed, batch, mode, tileable, style, g_sampler, g_grid, g_eta]
    inputs += [composition, palette]  # last: API clients written before them keep working
    job = job_endpoint(page, "generate", go, inputs, (g_preview, g_result, g_status, g_seed, g_bar))
    return TabParts(api={"generate": job}, stop=stop, send=g_send, source=g_result, target=style)
