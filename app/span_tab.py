"""The Span tab: pick screens (or type their geometry), see the layout to scale, paint one picture across
them, and download each monitor's file (a ZIP; every file is also in the History). Wired to app.events."""

from __future__ import annotations

from typing import Any

import gradio as gr

from .events import Events
from .handlers import Studio
from .span import MONITOR_CHOICES
from .widgets import result_panel, sampling_controls, solver_controls

QUICK = {"queue": False, "api_visibility": "private"}


def span_tab(studio: Studio, ev: Events) -> tuple[gr.Button, gr.Button, list[Any], tuple[Any, ...]]:
    """Build the tab (inside gr.Tabs); returns its Run and Stop buttons, the job's inputs in API order and
    its outputs (preview, result, status, seed used, progress bar, ZIP)."""
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
                steps, guidance, seed = sampling_controls(studio, "span")
                with gr.Accordion("Advanced", open=False):
                    sampler, grid, eta = solver_controls(studio, "span")
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
                go, stop, preview, result, status, seed_used, bar = result_panel("span", "Paint span")
                bundle = gr.File(label="Monitor files (ZIP)", interactive=False, elem_id="span-zip")
    add.click(ev.add_monitor, [monitors, screen, x, y], monitors, **QUICK)
    clear.click(lambda: "", None, monitors, **QUICK)
    gr.on(
        [monitors.change, bezel.change, steps.change], ev.span_plan, [monitors, bezel, steps], [layout, plan], **QUICK
    )
    inputs = [monitors, bezel, steps, guidance, seed, sampler, grid, eta]
    return go, stop, inputs, (preview, result, status, seed_used, bar, bundle)
