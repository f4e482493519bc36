"""The Generate tab: paint a canvas of any size (a batch of seeds, tileable, on a composition, in a style):
its layout, its actions and their input checks, its events, and what a job needs (shared/cost.py).

Wired to the shared parts (app/shared); no other tab is imported here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from patchdm_core.composition.sources import DEFAULT_COMPOSITION
from patchdm_core.sampling.palette import STRENGTH as PALETTE_STRENGTH
from patchdm_core.sampling.solvers import sampling_params

from ..shared import composition as comp
from ..shared import controls, fit
from ..shared.actions import BaseActions
from ..shared.components import upload_image
from ..shared.cost import Need, levels, passes
from ..shared.events import BaseEvents
from ..shared.imaging import InputError, PictureSource, flag, load_picture, number, size_input, size_note
from ..shared.jobs import Update, fmt_seconds, pick_seed, sample_updates
from ..shared.tab import QUICK, Page, TabParts, follow_up, job_endpoint
from ..shared.widgets import CUSTOM, PRESETS, fit_button, result_panel, use_size, wire_size_picker

MODES = ("feature", "naive", "pixel", "sliding")
MODE_FACTOR = {"feature": 1.0, "naive": 1.0, "pixel": 1.0, "sliding": 3.4}  # cost; sliding: stride p/2 windows


class GenerateActions(BaseActions):
    """Generate, what it needs and its plan line, as plain functions and generators of Updates."""

    def generate_need(
        self, width, height, steps=None, guidance=None, seed=-1, batch=1, mode="feature", tileable=False,
        style=None, sampler=None, grid=None, eta=None, composition=None, palette=None, layout_family=None,
        layout_strength=None, preset=None, guidance_interval=None,
    ) -> Need:  # fmt: skip
        """What a Generate job asks of the machine, from the action's inputs."""
        w, h = size_input(width, height)
        batch = 1 if batch in (None, "") else number("batch", batch, integer=True)
        settings = self._settings(steps, guidance, sampler, grid, eta, preset, guidance_interval)
        unit = passes(self, settings) * batch * MODE_FACTOR.get(str(mode), 1.0)
        return Need(w, h, unit, batch=batch, guided=float(settings["guidance"]) != 1, steps=levels(settings) * batch)

    def plan(self, width, height, steps, guidance=None, batch=1, mode="feature", sampler=None, preset=None,
             guidance_interval=None) -> str:  # fmt: skip
        """'128 patches × 12 steps · about 40 s here' (+ the off-grid note), or why it cannot run."""
        try:
            need = self.generate_need(width, height, steps, guidance, -1, batch, mode, False, None, sampler,
                                      preset=preset, guidance_interval=guidance_interval)  # fmt: skip
            steps = self._settings(steps, guidance, sampler, None, None, preset, guidance_interval)["steps"]
        except InputError as exc:
            return f"⚠ {exc}"
        gw, gh = -(-need.width // self.p), -(-need.height // self.p)
        text = f"{gw * gh} patches × {steps} steps" + (f" × {need.batch} pictures" if need.batch > 1 else "")
        note = size_note(need.width, need.height, self.p)
        return fit.plan(self, need, f"{text} · {note}" if note else text)

    def generate(
        self, width, height, steps=None, guidance=None, seed=-1, batch=1, mode="feature", tileable=False,
        style: PictureSource = None, sampler=None, grid=None, eta=None, composition=DEFAULT_COMPOSITION,
        palette=None, layout_family=None, layout_strength=None, preset=None, guidance_interval=None,
        stop: threading.Event | None = None,
    ) -> Iterator[Update]:  # fmt: skip
        """Paint `batch` canvases with seeds seed, seed+1, ...; previews, then each final PNG. A composition
        ("designed" in a `layout_family`, "training-layouts", "layout-model", "picture": the reference's own;
        shared/composition.py) paints each on the seed's layout by structure guidance at `layout_strength`.
        `palette`: how strongly a style picture's colours steer the canvas (sampling/palette.py)."""
        need = self.generate_need(width, height, steps, guidance, seed, batch, mode, tileable, style, sampler, grid,
                                  eta, preset=preset, guidance_interval=guidance_interval)  # fmt: skip
        self._check(need)
        width, height, batch = need.width, need.height, need.batch
        tileable = flag("tileable", tileable)
        settings = self._settings(steps, guidance, sampler, grid, eta, preset, guidance_interval)
        steps = int(settings["steps"])
        if mode not in MODES:
            raise InputError(f"unknown sampler mode {mode!r}; choose one of {', '.join(MODES)}")
        if tileable and mode != "feature":
            raise InputError("tileable output needs the feature sampler (Advanced → Sampler: feature)")
        palette = number("style colours", PALETTE_STRENGTH if palette in (None, "") else palette, lo=0, hi=1)
        tile_grid = self.pipe.grid_size(height, width, True)[::-1] if tileable else None
        notes = [n for n in [size_note(width, height, self.p, tile_grid)] if n]
        z, style_name, reference = None, None, None
        if style is not None:
            reference, note = load_picture(style, self.limits, what="style reference")
            notes += [f"style reference: {note}"] if note else []
            z = self.pipe.encode_style(reference)  # its global code, and its colours below
            style_name = Path(style).name if isinstance(style, (str, Path)) else "reference picture"
        name, source = comp.source(self, composition, layout_family, reference)
        guide = comp.structure(layout_strength)
        first = pick_seed(seed)
        plan = f"{(-(-width // self.p)) * (-(-height // self.p))} patches × {steps} steps"
        clock = {"start": time.perf_counter()}
        if notes:
            yield Update(f"{plan} · " + "; ".join(notes), note="; ".join(notes))
        for i in range(batch):
            s = first + i
            label = f"{plan} · seed {s}" + (f" · image {i + 1}/{batch}" if batch > 1 else "")
            kw = dict(z=z, palette=reference, palette_strength=palette, mode=mode, tileable=tileable, **settings)
            if source is not None:
                it = self.pipe.compose(source, height, width, seed=s, structure=guide, **kw)
            else:
                it = self.pipe.generate(height, width, seed=s, **kw)
            x = yield from sample_updates(
                it, look=self.pipe.preview, label=lambda _, label=label: label, stop=stop, seed=s, clock=clock,
                done_before=i * steps, work=lambda t: t * batch,
            )  # fmt: skip
            if x is None:
                return
            params = {**sampling_params(settings, mode), "Seed": s, "Size": f"{width}x{height}"}
            params |= {"Tileable": "xy"} if tileable else {}
            params |= comp.params(name, source, s, guide, style_name) if source is not None else {}
            params |= {"Style": style_name, "Palette strength": palette} if style_name else {}
            params |= {"Batch": f"{i + 1}/{batch}"} if batch > 1 else {}
            path = self._finish(x, params, "generate", s)
            took = fmt_seconds(time.perf_counter() - clock["start"])
            of = f" (image {i + 1}/{batch})" if batch > 1 else ""
            done = f"Done: {width}×{height}, seed {s}, {plan} in {took}{of}"
            yield Update(done, final=path, seed=s, index=(i + 1) * steps, total=batch * steps, history_changed=True)


class GenerateEvents(BaseEvents):
    """Generate's events with the signatures Gradio inspects."""

    def generate(
        self, width: float, height: float, steps: float, guidance: float, seed: float, batch: float, mode: str,
        tileable: bool, style: Any, sampler: str | None, grid: str | None, eta: float | None,
        composition: str | None, palette: float | None, layout_family: str | None, layout_strength: float | None,
        preset: str | None, guidance_interval: str | None, request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's documented idiom
    ) -> Iterator[tuple]:  # fmt: skip
        """Paint a canvas: previews while it runs, then the PNG (a batch: each, and all of them under Result)."""
        args = (width, height, steps, guidance, seed, batch, mode, tileable, style, sampler, grid, eta, composition)
        args += (palette, layout_family, layout_strength, preset, guidance_interval)
        yield from self._job(request, progress, lambda flag: self.studio.generate(*args, stop=flag), kind="generate")

    def plan(self, width, height, steps, guidance, batch, mode, sampler, preset, interval) -> tuple[str, Any]:
        """The plan line under the canvas size and the "use the largest that fits" button (no model involved)."""
        text = self.studio.plan(width, height, steps, guidance, batch, mode, sampler, preset, interval)
        try:
            need = self.studio.generate_need(width, height, steps, guidance, -1, batch, mode, False, None, sampler,
                                             preset=preset, guidance_interval=interval)  # fmt: skip
        except InputError:
            return text, fit_button(None)
        return text, fit_button(fit.largest(self.studio, need) if fit.refusal(self.studio, need) else None)

    def check_style(self, style: Any) -> str:
        """A style reference checked as soon as it is uploaded: a damaged file is said at once, not at Generate."""
        if style is None:
            return ""
        try:
            load_picture(style, self.studio.limits, what="style reference")
        except InputError as exc:
            gr.Warning(str(exc))
            return f"⚠ {exc}"
        return ""


def reuse_seed(seed: Any) -> Any:
    """The seed of the picture in Result, back into the Seed box."""
    return seed


def settings_of(params: dict[str, str]) -> dict[str, Any]:
    """A past Generate picture's parameters as this tab's settings (History's "Use these settings")."""
    out: dict[str, Any] = {}
    if (size := params.get("Size", "")).count("x") == 1:
        w, h = size.split("x")
        out |= {"gen-size": CUSTOM, "gen-width": int(w), "gen-height": int(h)}
    out |= {"gen-tileable": params.get("Tileable") is not None, "gen-batch": 1}
    out |= {"gen-mode": params["Mode"]} if "Mode" in params else {}
    out["gen-composition"] = params.get("Composition", "none")
    out |= {"gen-family": params["Layout family"]} if "Layout family" in params else {}
    out |= {"gen-layout-strength": float(params["Structure strength"])} if "Structure strength" in params else {}
    out |= {"gen-palette": float(params["Palette strength"])} if "Palette strength" in params else {}
    return out | controls.settings_of(params, "gen")


def tab(page: Page) -> TabParts:
    """Build the tab (inside gr.Tabs) and wire its own helpers; the job's endpoint is registered by the page."""
    studio, ev = page.studio, page.ev
    with gr.Tab("Generate", id="generate"):
        with gr.Row():
            with gr.Column(scale=2):
                size = gr.Dropdown([*PRESETS, CUSTOM], value="1024×512", label="Canvas", elem_id="gen-preset")
                with gr.Row():
                    width = gr.Number(1024, precision=0, minimum=16, maximum=65536, label="Width", elem_id="gen-width")
                    height = gr.Number(
                        512, precision=0, minimum=16, maximum=65536, label="Height", elem_id="gen-height"
                    )
                plan = gr.Markdown(elem_id="gen-plan")
                largest = fit_button(None, "gen-fit")
                c = controls.sampling_controls(studio, "gen")
                batch = gr.Slider(1, 8, value=1, step=1, label="Batch count (seed, seed+1, …)", elem_id="gen-batch")
                tileable = gr.Checkbox(label="Tileable (wraps around: the picture tiles without seams)")
                composition, family, strength = comp.controls(studio, "gen")
                style = upload_image(
                    sources=["upload", "clipboard"], label="Style reference (optional)", height=180, elem_id="gen-style"
                )
                style_note = gr.Markdown(elem_id="gen-style-note")
                palette = gr.Slider(
                    0, 1, value=PALETTE_STRENGTH, step=0.05, label="Style colours", elem_id="gen-palette",
                    info="how strongly the style picture's colours steer the canvas (0: its global code only)",
                )  # fmt: skip
                with gr.Accordion("Advanced", open=False):
                    controls.solver_controls(studio, "gen", c)
                    mode = gr.Radio(
                        list(MODES), value="feature", label="Patch joining", elem_id="gen-mode",
                        info="feature = Patch-DM feature collage; naive, pixel, sliding for comparison",
                    )  # fmt: skip
            with gr.Column(scale=3):
                panel = result_panel("gen", "Generate")
                with gr.Row():
                    reuse = gr.Button("Reuse seed", size="sm", elem_id="gen-reuse")
    wire_size_picker(page, size, width, height)
    plan_in = [width, height, c.steps, c.guidance, batch, mode, c.sampler, c.preset, c.interval]
    changes = [width.change, height.change, c.steps.change, c.guidance.change, batch.change, mode.change]
    changes += [c.sampler.change, c.interval.change, page.demo.load, page.gallery.change]
    gr.on(changes, ev.plan, plan_in, [plan, largest], **QUICK, show_progress="hidden")
    largest.click(use_size, largest, [width, height, size], **QUICK)
    reuse.click(reuse_seed, panel.seed_used, c.seed, **QUICK)
    style.change(ev.check_style, style, style_note, **QUICK)
    inputs = [width, height, *controls.inputs(c)[:3], batch, mode, tileable, style, *controls.inputs(c)[3:]]
    inputs += [composition, palette, family, strength, c.preset, c.interval]  # last: older API clients work
    job = job_endpoint(page, "generate", inputs, panel)
    follow_up(page, "generate", panel)
    keep = {"gen-size": size, "gen-width": width, "gen-height": height, "gen-batch": batch, "gen-tileable": tileable}
    keep |= {"gen-composition": composition, "gen-family": family, "gen-layout-strength": strength}
    keep |= {"gen-palette": palette, "gen-mode": mode} | controls.keep(c, "gen")
    return TabParts(api={"generate": job}, panel=panel, source=panel.result, target=style, keep=keep,
                    settings=settings_of)  # fmt: skip
