"""The Span tab: one picture across several monitors, painted over their bounding box and cut into one file
per monitor, with the physical gap between the screens (the bezel) painted but in no file. The geometry is
patchdm_core's (runtime/screens.py); this is the app's side of it: the text a user edits, the layout drawn to
scale, the job, the ZIP of the monitors' files, its events and cost, and the tab itself (pick screens or type
their geometry, see the layout to scale, download each monitor's file; every file is also in the History)."""

from __future__ import annotations

import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image, ImageDraw, ImageFont

from patchdm_core.runtime.images import save_png, to_pil
from patchdm_core.runtime.screens import PRESETS, SCREENS, Monitor, parse_span, span_layout
from patchdm_core.sampling.solvers import sampling_params

from ..shared import composition as comp
from ..shared import controls, fit
from ..shared.actions import BaseActions
from ..shared.cost import Need, levels, passes
from ..shared.events import BaseEvents
from ..shared.imaging import InputError, number
from ..shared.jobs import Update, fmt_seconds, pick_seed, sample_updates
from ..shared.tab import QUICK, Page, TabParts, follow_up, job_endpoint
from ..shared.widgets import result_panel

# (label, value) of every screen for the monitor picker: "desktop · 4k · 3840×2160" -> "4k"
MONITOR_CHOICES = [
    (f"{group} · {name} · {w}×{h}", name) for group, sizes in SCREENS.items() for name, (w, h) in sizes.items()
]
COLOURS = ["#f6c1d8", "#c9e4f5", "#d7f0c8", "#f9e3b4", "#e2d4f3", "#f3d0c0"]


def monitors_of(text: Any, bezel: Any) -> tuple[tuple[int, int], list[Monitor], list[Monitor], int]:
    """The typed monitors -> (canvas (W, H), monitors as typed, placed on the canvas, bezel); InputError in
    the CLI's words for anything wrong."""
    bezel = number("bezel", bezel or 0, integer=True, lo=0, hi=4096)
    try:
        typed = parse_span(str(text or ""))
        size, placed = span_layout(typed, bezel)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return size, typed, placed, bezel


def add_monitor(text: Any, screen: Any, x: Any = None, y: Any = None) -> str:
    """The monitor list with one more screen: at (x, y) if given, else right of the rightmost one, top-aligned."""
    if screen not in PRESETS:
        raise InputError(f"pick a screen from the list, got {screen!r}")
    w, h = PRESETS[screen]
    current = parse_span(text) if str(text or "").strip() else []
    if x in (None, "") or y in (None, ""):
        x = max((m.x + m.width for m in current), default=0)
        y = min((m.y for m in current), default=0)
    x, y = number("x", x, integer=True, lo=-65536, hi=65536), number("y", y, integer=True, lo=-65536, hi=65536)
    return ",".join([m.text() for m in current] + [Monitor(w, h, x, y).text()])


def draw_layout(size: tuple[int, int], placed: list[Monitor], max_side: int = 640) -> Image.Image:
    """The span drawn to scale: each monitor a numbered box, the bezel gaps and uncovered corners grey."""
    scale = max_side / max(size)
    w, h = max(1, round(size[0] * scale)), max(1, round(size[1] * scale))
    img = Image.new("RGB", (w + 2, h + 2), "#9a9aa5")  # painted, but in no monitor's file
    draw = ImageDraw.Draw(img)
    for i, m in enumerate(placed):
        box = [round(v * scale) + 1 for v in m.box]
        draw.rectangle([box[0], box[1], box[2] - 1, box[3] - 1], fill=COLOURS[i % len(COLOURS)], outline="#333")
        font = ImageFont.load_default(size=max(10, min(28, (box[3] - box[1]) // 5, (box[2] - box[0]) // 8)))
        centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        draw.text(centre, f"{i + 1} · {m.width}x{m.height}", fill="#222", font=font, anchor="mm")
    return img


class SpanActions(BaseActions):
    """Span and its plan, as plain functions and generators of Updates."""

    def span_need(
        self, monitors, bezel=0, steps=None, guidance=None, seed=-1, sampler=None, grid=None, eta=None,
        composition=None, layout_family=None, layout_strength=None, preset=None, guidance_interval=None,
    ) -> Need:  # fmt: skip
        """What a Span job asks (the monitors' bounding box), from the action's inputs."""
        (width, height), *_ = monitors_of(monitors, bezel)
        settings = self._settings(steps, guidance, sampler, grid, eta, preset, guidance_interval)
        guided = float(settings["guidance"]) != 1
        unit, steps = passes(self, settings), levels(settings)
        return Need(width, height, unit, what="span", guided=guided, resizable=False, steps=steps)

    def span_plan(
        self, text: Any, bezel: Any, steps: Any = None, guidance: Any = None, sampler: Any = None,
        preset: Any = None, interval: Any = None,
    ) -> tuple[Image.Image | None, str]:  # fmt: skip
        """The layout drawn to scale, what the job will paint and how long it takes, before running it."""
        if not str(text or "").strip():
            return None, "Add a monitor (or type their geometry as display settings show it: 2560x1440+0+0, …)."
        try:
            size, typed, placed, bezel = monitors_of(text, bezel)
            need = self.span_need(text, bezel, steps, guidance, -1, sampler, preset=preset, guidance_interval=interval)
            steps = self._settings(steps, guidance, sampler, None, None, preset, interval)["steps"]
        except InputError as exc:
            return None, f"⚠ {exc}"
        gw, gh = -(-size[0] // self.p), -(-size[1] // self.p)
        line = f"{len(placed)} monitor{'s' if len(placed) > 1 else ''} · canvas {size[0]}×{size[1]}"
        line += f" · {gw * gh} patches × {steps} steps" + (f" · bezel {bezel} px" if bezel else "")
        return draw_layout(size, placed), fit.plan(self, need, line)

    def span(
        self,
        text: Any,
        bezel: Any = 0,
        steps: float | None = None,
        guidance: float | None = None,
        seed: float = -1,
        sampler: str | None = None,
        grid: str | None = None,
        eta: float | None = None,
        composition: str | None = None,
        layout_family: str | None = None,
        layout_strength: float | None = None,
        preset: str | None = None,
        guidance_interval: str | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[Update]:
        """Paint the span's canvas (on a composition, if one is picked), then save it to the history and each
        monitor's crop beside the ZIP of them (spans/: one History entry per span)."""
        (width, height), typed, placed, bezel = monitors_of(text, bezel)
        self._check(self.span_need(text, bezel, steps, guidance, seed, sampler, grid, eta, composition,
                                   preset=preset, guidance_interval=guidance_interval))  # fmt: skip
        settings = self._settings(steps, guidance, sampler, grid, eta, preset, guidance_interval)
        name, source = comp.source(self, composition, layout_family, None)
        guide = comp.structure(layout_strength)
        s = pick_seed(seed)
        clock = {"start": time.perf_counter()}
        label = lambda total: f"span · {len(placed)} monitors · {width}×{height} · {total} steps · seed {s}"
        if source is not None:
            it = self.pipe.compose(source, height, width, seed=s, structure=guide, **settings)
        else:
            it = self.pipe.generate(height, width, seed=s, **settings)
        x = yield from sample_updates(it, label=label, stop=stop, seed=s, clock=clock, look=self.pipe.preview)
        if x is None:
            return
        whole = to_pil(x)
        params = {**sampling_params(settings), "Seed": s, "Size": f"{width}x{height}"}
        params |= comp.params(name, source, s, guide, None) if source is not None else {}
        params |= {"Span": ",".join(m.text() for m in typed), "Bezel": bezel}
        path = self.history.save(whole, self.pipe.params(**params), "span", s)
        files = []
        for i, m in enumerate(placed):
            crop = {"Monitor": f"{i + 1}/{len(placed)}", "Crop": m.text()}
            file = self.history.root / "spans" / f"{path.stem}-monitor{i + 1}.png"
            files.append(save_png(whole.crop(m.box), file, self.pipe.params(**params, **crop)))
        bundle = zip_monitors(files, self.history.root / "spans" / f"{path.stem}.zip")
        took = fmt_seconds(time.perf_counter() - clock["start"])
        n = int(clock["total"])
        yield Update(
            f"Done: {label(n)} in {took}; {len(files)} monitor files in the ZIP (the whole picture in the history)",
            final=path,
            seed=s,
            index=n,
            total=n,
            history_changed=True,
            download=bundle,
        )


def zip_monitors(files: list[Path], target: Path) -> Path:
    """The monitors' PNGs in one ZIP (stored: PNG is compressed already), named monitor1.png, monitor2.png, ..."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".tmp-{target.name}")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as bundle:
        for i, f in enumerate(files):
            bundle.write(f, f"monitor{i + 1}.png")
    tmp.replace(target)
    return target


class SpanEvents(BaseEvents):
    """Span's events with the signatures Gradio inspects."""

    def span(
        self,
        monitors: str,
        bezel: float,
        steps: float,
        guidance: float,
        seed: float,
        sampler: str | None,
        grid: str | None,
        eta: float | None,
        composition: str | None,
        layout_family: str | None,
        layout_strength: float | None,
        preset: str | None,
        guidance_interval: str | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[tuple]:
        """Paint one picture across several monitors; the whole, each monitor's file, and their ZIP."""
        args = (monitors, bezel, steps, guidance, seed, sampler, grid, eta, composition, layout_family)
        args += (layout_strength, preset, guidance_interval)
        job = lambda flag: self.studio.span(*args, stop=flag)  # noqa: E731
        yield from self._job(request, progress, job, download=True, kind="span")

    def span_plan(self, monitors, bezel, steps, guidance, sampler, preset, interval) -> tuple[Any, str]:
        """The layout drawn to scale and the plan line (no model involved)."""
        return self.studio.span_plan(monitors, bezel, steps, guidance, sampler, preset, interval)

    def add_monitor(self, monitors: str, screen: str, x: float | None, y: float | None) -> str:
        """The monitor list with the picked screen added (a warning toast, no change, when it cannot be)."""
        try:
            return add_monitor(monitors, screen, x, y)
        except (InputError, ValueError) as exc:
            gr.Warning(str(exc))
            return gr.skip()


def settings_of(params: dict[str, str]) -> dict[str, Any]:
    """A past span's parameters as this tab's settings (History's "Use these settings")."""
    out = {"span-monitors": params["Span"]} if "Span" in params else {}
    out |= {"span-bezel": int(params["Bezel"])} if params.get("Bezel", "").isdigit() else {}
    out["span-composition"] = params.get("Composition", "none")
    out |= {"span-family": params["Layout family"]} if "Layout family" in params else {}
    return out | controls.settings_of(params, "span")


def tab(page: Page) -> TabParts:
    """Build the tab (inside gr.Tabs) and wire its own helpers; the job's endpoint is registered by the page."""
    studio, ev = page.studio, page.ev
    with gr.Tab("Span", id="span"):
        with gr.Row():
            with gr.Column(scale=2):
                screen = gr.Dropdown(MONITOR_CHOICES, value="1440p", label="Screen", elem_id="span-screen")
                with gr.Row():
                    x = gr.Textbox(
                        "", label="X (px)", placeholder="auto: right of the last", max_lines=1, elem_id="span-x"
                    )
                    y = gr.Textbox("", label="Y (px)", placeholder="auto: top-aligned", max_lines=1, elem_id="span-y")
                with gr.Row():
                    add = gr.Button("Add monitor", size="sm", elem_id="span-add")
                    clear = gr.Button("Clear", size="sm", elem_id="span-clear")
                monitors = gr.Textbox(
                    "",
                    label="Monitors",
                    info="WxH+X+Y each, as your display settings show them (X, Y empty: right of the last one)",
                    max_lines=2,
                    elem_id="span-monitors",
                )
                bezel = gr.Number(
                    0,
                    precision=0,
                    minimum=0,
                    maximum=4096,
                    label="Bezel (px)",
                    info="the gap between neighbouring screens: painted, so lines continue across it, in no file",
                    elem_id="span-bezel",
                )
                c = controls.sampling_controls(studio, "span")
                composition, family, strength = comp.controls(studio, "span", picture=False)
                with gr.Accordion("Advanced", open=False):
                    controls.solver_controls(studio, "span", c)
            with gr.Column(scale=3):
                layout = gr.Image(
                    label="Layout, to scale (grey: painted, in no monitor's file)",
                    type="pil",
                    format="png",
                    interactive=False,
                    height=200,
                    elem_id="span-layout",
                )
                plan = gr.Markdown(elem_id="span-plan")
                panel = result_panel("span", "Paint span")
                bundle = gr.File(label="Monitor files (ZIP)", interactive=False, elem_id="span-zip")
    add.click(ev.add_monitor, [monitors, screen, x, y], monitors, **QUICK)
    clear.click(lambda: "", None, monitors, **QUICK)  # the one lambda here: renaming it would rename /lambda_3...
    plan_in = [monitors, bezel, c.steps, c.guidance, c.sampler, c.preset, c.interval]
    changes = [monitors.change, bezel.change, c.steps.change, c.guidance.change, c.sampler.change, c.interval.change]
    gr.on(changes, ev.span_plan, plan_in, [layout, plan], **QUICK)
    inputs = [monitors, bezel, *controls.inputs(c), composition, family, strength, c.preset, c.interval]
    # a span's job has one more output: the ZIP of the monitors' files
    job = job_endpoint(page, "span", inputs, panel, download=bundle)
    follow_up(page, "span", panel)
    keep = {"span-monitors": monitors, "span-bezel": bezel, "span-screen": screen, "span-composition": composition}
    keep |= {"span-family": family, "span-layout-strength": strength} | controls.keep(c, "span")
    return TabParts(api={"span": job}, panel=panel, source=panel.result, keep=keep, settings=settings_of)
