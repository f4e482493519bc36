"""Control groups the tabs reuse: steps/guidance/seed, the solver choices, the result panel, send-to buttons,
the size picker (Generate, Sketch)."""

from __future__ import annotations

import gradio as gr

from patchdm_core.editing.edits import EDIT_STRENGTH
from patchdm_core.runtime.screens import SCREENS

from .actions import BaseActions
from .events import progress_bar
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
RECENT = "recent · "  # the sizes of the newest pictures in the history come first


def sampling_controls(studio: BaseActions, prefix: str) -> tuple[gr.Slider, gr.Slider, gr.Number]:
    """Steps, guidance and seed (−1 = random)."""
    steps, guidance = studio.defaults()
    with gr.Row():
        s = gr.Slider(1, 200, value=steps, step=1, label="Steps", elem_id=f"{prefix}-steps")
        g = gr.Slider(0, 10, value=guidance, step=0.1, label="Guidance", elem_id=f"{prefix}-guidance")
    seed = gr.Number(-1, precision=0, label="Seed (−1 = random)", elem_id=f"{prefix}-seed")
    return s, g, seed


def solver_controls(studio: BaseActions, prefix: str) -> tuple[gr.Radio, gr.Radio, gr.Slider]:
    """Sampler, grid rule and eta (defaults: the model's); call inside an Advanced accordion."""
    sampler, grid, eta = studio.solver_defaults()
    s = gr.Radio(
        [("DPM++ 2M", "dpmpp-2m"), ("DDIM", "ddim")],
        value=sampler,
        label="Sampler",
        info="DPM-Solver++(2M) needs about half DDIM's steps for the same picture",
        elem_id=f"{prefix}-sampler",
    )
    g = gr.Radio(
        [("random", "random"), ("alternate", "alternate"), ("fixed (paper)", "fixed")],
        value=grid,
        label="Patch grid",
        info="where the 64-px patch grid sits each step: moving it hides the seams between patches",
        elem_id=f"{prefix}-grid",
    )
    e = gr.Slider(0, 1, value=eta, step=0.05, label="Eta (0 = deterministic)", elem_id=f"{prefix}-eta")
    return s, g, e


def edit_strength_slider(kind: str, prefix: str, info: str) -> gr.Slider:
    """An edit's strength (inpaint, outpaint), starting at the core's default for that edit."""
    return gr.Slider(
        0.05, 1, value=EDIT_STRENGTH[kind], step=0.05, label="Strength", info=info, elem_id=f"{prefix}-strength"
    )


def send_row(prefix: str, exclude: str | None) -> dict[str, gr.Button]:
    """'Send to …' buttons for every other tab (Generate takes the picture as its style reference)."""
    buttons = {}
    with gr.Row():
        for tab, label in SEND_TARGETS.items():
            if tab != exclude:
                buttons[tab] = gr.Button(f"Send to {label}", size="sm", elem_id=f"{prefix}-to-{tab}")
    return buttons


def result_panel(prefix: str, action: str) -> tuple:
    """Run and Stop, status line, seed used, progress bar, live preview (JPEG) and the final PNG."""
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
    return run, stop, preview, result, status, seed_used, bar


def size_choices(studio: BaseActions) -> dict:
    """The size picker's list: the sizes of the newest pictures in the history, the presets, custom."""
    recent = [f"{RECENT}{w}×{h}" for w, h in studio.history.recent_sizes(3)]
    return gr.update(choices=[*recent, *PRESETS, CUSTOM])


def preset_size(label: str) -> tuple:
    """(width, height) of a picked size, or no change (custom)."""
    if label in PRESETS:
        return PRESETS[label]
    if label and label.startswith(RECENT):
        w, h = label.removeprefix(RECENT).split("×")
        return int(w), int(h)
    return gr.skip(), gr.skip()


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
