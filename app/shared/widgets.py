"""Parts the tabs reuse: the result panel (with its batch, Vary, Send to and follow-up timer), the edit strength
slider, the size picker (Generate, Sketch, Upscale). The sampling controls are in controls.py."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from patchdm_core.editing.edits import EDIT_STRENGTH
from patchdm_core.runtime.screens import SCREENS

from .actions import BaseActions
from .follow import TICK_S, progress_bar
from .history import read_parameters
from .tab import QUICK, Page

SEND_TARGETS = {
    "generate": "Generate (style)",
    "sketch": "Sketch",
    "inpaint": "Inpaint",
    "outpaint": "Outpaint",
    "upscale": "Upscale",
}
# the model's quick sizes first, then the screens people own, grouped (the CLI's --size names)
PRESETS = {"1024×512": (1024, 512), "2048×1024": (2048, 1024)} | {
    f"{group} · {name} · {w}×{h}": (w, h) for group, sizes in SCREENS.items() for name, (w, h) in sizes.items()
}
CUSTOM = "custom"
RECENT = "recent · "  # the sizes of the newest pictures in the history come first (unless a preset has them)
VARY = {"subtle": "Vary (subtle)", "strong": "Vary (strong)"}


@dataclass
class Panel:
    """A tab's result panel: Run and Stop, the status line, the seed of the picture in Result, a progress bar,
    the live preview and the final PNG, the pictures of a batch, variations, Send to, and the timer that
    follows a job this page is not streaming (waiting in the queue, or started before a reload)."""

    run: gr.Button
    stop: gr.Button
    status: gr.Textbox
    seed_used: gr.Number
    bar: gr.HTML
    preview: gr.Image
    result: gr.Image
    batch: gr.State
    gallery: gr.Gallery
    timer: gr.Timer
    vary: dict[str, tuple[gr.Button, gr.Radio]] = field(default_factory=dict)  # how -> (button, its hidden value)
    send: dict[str, gr.Button] = field(default_factory=dict)

    def followed(self) -> list[Any]:
        """What a catch-up (follow.Following.catch_up) writes: status, preview, result, seed, bar, timer."""
        return [self.status, self.preview, self.result, self.seed_used, self.bar, self.timer]


def edit_strength_slider(kind: str, prefix: str, info: str) -> gr.Slider:
    """An edit's strength (inpaint, outpaint), starting at the core's default for that edit."""
    return gr.Slider(
        0.05, 1, value=EDIT_STRENGTH[kind], step=0.05, label="Strength", info=info, elem_id=f"{prefix}-strength"
    )


def send_row(prefix: str) -> dict[str, gr.Button]:
    """'Send to …' buttons for every tab, this one included (keep editing the result; Generate takes the
    picture as its style reference)."""
    buttons = {}
    with gr.Row():
        for tab, label in SEND_TARGETS.items():
            buttons[tab] = gr.Button(f"Send to {label}", size="sm", elem_id=f"{prefix}-to-{tab}")
    return buttons


def result_panel(prefix: str, action: str, vary: bool = True) -> Panel:
    """Run and Stop, status line, seed used, progress bar, live preview (JPEG), the final PNG, the batch's
    pictures, Vary and Send to."""
    with gr.Row():
        run = gr.Button(action, variant="primary", elem_id=f"{prefix}-run", scale=3)
        stop = gr.Button("Stop", variant="stop", elem_id=f"{prefix}-stop", scale=1)
    with gr.Row():
        status = gr.Textbox(
            label="Status", interactive=False, elem_id=f"{prefix}-status", elem_classes=["status"], scale=4
        )
        # jobs (and API clients) get the seed as a number, but a Number shows 0 before any job has run:
        # the user sees a Textbox that mirrors it, empty until there is a seed
        seed_used = gr.Number(None, precision=0, visible=False, elem_id=f"{prefix}-seed-value")
        shown = gr.Textbox("", label="Seed used", interactive=False, max_lines=1, elem_id=f"{prefix}-seed-used")
        seed_used.change(
            lambda s: "" if s is None else str(int(s)), seed_used, shown, queue=False, show_progress="hidden"
        )
    bar = gr.HTML(progress_bar(0, 0), elem_id=f"{prefix}-bar", padding=False)
    with gr.Row(equal_height=True):
        preview = gr.Image(
            label="Live preview",
            format="jpeg",
            type="pil",
            interactive=False,
            height=300,
            buttons=["fullscreen"],
            elem_id=f"{prefix}-preview",
        )
        result = gr.Image(
            label="Result (PNG with parameters)",
            format="png",
            type="filepath",
            interactive=False,
            height=300,
            buttons=["download", "fullscreen"],
            elem_id=f"{prefix}-result",
        )
    gallery = gr.Gallery(
        label="This batch (pick one to see it in Result)",
        visible=False,
        format="png",
        columns=4,
        height=200,
        object_fit="contain",
        elem_id=f"{prefix}-batch",
    )
    batch = gr.State([])
    timer = gr.Timer(TICK_S, active=False)
    buttons = {}
    if vary:
        with gr.Row():
            for k, label in VARY.items():
                how = gr.Radio(list(VARY), value=k, visible=False, label="Vary")
                buttons[k] = (gr.Button(label, size="sm", elem_id=f"{prefix}-vary-{k}"), how)
    send = send_row(prefix)
    panel = Panel(run, stop, status, seed_used, bar, preview, result, batch, gallery, timer, buttons, send)
    batch.change(show_batch, batch, gallery, **QUICK)
    gallery.select(pick_from_batch, batch, [result, seed_used], **QUICK)
    return panel


def show_batch(paths: list[str] | None) -> dict:
    """The batch's pictures under Result, shown when a job made more than one."""
    paths = [p for p in (paths or []) if p]
    return gr.update(value=paths if len(paths) > 1 else None, visible=len(paths) > 1)


def pick_from_batch(paths: list[str] | None, evt: gr.SelectData) -> tuple[Any, Any]:
    """A picture picked in the batch becomes the Result (and its seed the seed used)."""
    paths = paths or []
    if not isinstance(evt.index, int) or not 0 <= evt.index < len(paths):
        return gr.skip(), gr.skip()
    path = paths[evt.index]
    return path, seed_of(path)


def seed_of(path: str | Path | None) -> int | None:
    """The seed a history picture was painted with (its parameters), or None."""
    match = re.search(r"(?:^|, )Seed: (\d+)", read_parameters(path))
    return int(match[1]) if match else None


def size_choices(studio: BaseActions) -> dict:
    """The size picker's list: the sizes of the newest pictures in the history, the presets, custom."""
    listed = set(PRESETS.values())
    recent = [f"{RECENT}{w}×{h}" for w, h in studio.history.recent_sizes(3) if (w, h) not in listed]
    return gr.update(choices=[*recent, *PRESETS, CUSTOM])


def preset_size(label: str) -> tuple:
    """(width, height) of a picked size, or no change (custom)."""
    if label in PRESETS:
        return PRESETS[label]
    if label and label.startswith(RECENT):
        w, h = label.removeprefix(RECENT).split("×")
        return int(w), int(h)
    return gr.skip(), gr.skip()


def fit_button(best: tuple[int, int] | None, elem_id: str | None = None) -> Any:
    """The button beside a plan line that puts in the largest size that fits (hidden while the size fits): the
    component (with elem_id, when building) or its update."""
    label = f"Use {best[0]}×{best[1]}, the largest that fits" if best else "Use the largest size that fits"
    if elem_id is not None:
        return gr.Button(label, size="sm", visible=False, elem_id=elem_id)
    return gr.update(value=label, visible=best is not None)


def use_size(label: str | None) -> tuple[Any, Any, Any]:
    """Width and height from the fit button's label (and the size picker to custom)."""
    match = re.search(r"(\d+)×(\d+)", label or "")
    if not match:
        return gr.skip(), gr.skip(), gr.skip()
    return int(match[1]), int(match[2]), CUSTOM


def custom_size() -> str:
    """The picker's entry once width or height is typed."""
    return CUSTOM


def wire_size_picker(page: Page, preset: gr.Dropdown, width: gr.Number, height: gr.Number) -> None:
    """A picked size fills width and height; typing either shows "custom"; the list is refreshed with the
    history's sizes when the page loads and when a job finishes."""

    def recent_first() -> dict:
        return size_choices(page.studio)

    preset.change(preset_size, preset, [width, height], **QUICK)
    gr.on([width.input, height.input], custom_size, None, preset, **QUICK)
    gr.on([page.demo.load, page.gallery.change], recent_first, None, preset, **QUICK)
