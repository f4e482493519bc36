"""Layout of the studio: Generate, Inpaint, Outpaint, Sketch, Upscale and History tabs, wired to app.events.

All model events share one worker (concurrency_id "model"); the queue is bounded (a full queue
answers "busy, try again"). Small UI helpers (plans, layout sketches, Stop) bypass the queue.
"""

from __future__ import annotations

import gradio as gr

from patchdm_core.runtime.screens import SCREENS
from patchdm_core.sampling.palette import STRENGTH as PALETTE_STRENGTH

from .components import guard_inputs, mask_editor, upload_image
from .events import Events
from .handlers import MODES, Studio
from .span_tab import span_tab
from .steering import UPSCALE_FACTORS
from .widgets import (
    SKETCH_COLOURS,
    edit_strength_slider,
    result_panel,
    sampling_controls,
    send_row,
    solver_controls,
)

COMPOSITION_LABELS = {"none": "none", "layouts": "training layouts", "layout-model": "layout model"}

# the model's quick sizes first, then the screens people own, grouped (the CLI's --size names)
PRESETS = {"1024×512": (1024, 512), "2048×1024": (2048, 1024)} | {
    f"{group} · {name} · {w}×{h}": (w, h) for group, sizes in SCREENS.items() for name, (w, h) in sizes.items()
}
CUSTOM = "custom"
RECENT = "recent · "  # the sizes of the newest pictures in the history come first
MODEL = {"concurrency_id": "model", "concurrency_limit": 1, "trigger_mode": "once"}
QUICK = {"queue": False, "api_visibility": "private"}
CSS = """
#banner {background: #fff4d6; border: 1px solid #e0b100; border-radius: 8px; padding: 6px 12px;}
#gen-plan p, #out-size p {margin: 2px 0; opacity: 0.85;}
.status textarea {font-family: var(--font-mono); font-size: 13px;}
.pdm-bar {height: 6px; border-radius: 3px; background: var(--neutral-200); overflow: hidden; margin: 0 4px;}
.pdm-bar > div {height: 100%; background: var(--color-accent); transition: width 0.15s linear;}
/* Gradio sizes the gallery's columns by its item count: one picture became one 1200-px square, cut to a band */
#history .grid-container {grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)) !important;}
"""
THEME = gr.themes.Soft(primary_hue="pink", secondary_hue="slate")


def build(studio: Studio, events: Events | None = None, queue_size: int = 8) -> gr.Blocks:
    """The whole app as gr.Blocks (queue configured; launch it with theme=THEME, css=CSS)."""
    ev = events or Events(studio)
    pipe = studio.pipe
    with gr.Blocks(title="Patch-DM Studio", analytics_enabled=False, delete_cache=(3600, 24 * 3600)) as demo:
        gr.Markdown(
            f"## Patch-DM Studio\nWallpapers of any size from a model that only sees {studio.p}×{studio.p} patches. "
            f"Model **{pipe.name}** (`{pipe.model_hash}`) on **{pipe.device}**. One job may cost up to "
            f"{studio.limits.max_job_cost:,.0f} megapixel-steps (canvas megapixels × steps, ×2 with guidance, "
            "× batch); larger jobs are refused before they queue."
        )
        if studio.banner:
            gr.Markdown(f"⚠ {studio.banner}", elem_id="banner")
        gallery = gr.Gallery(  # placed in the History tab; every finished job refreshes it
            render=False,
            format="png",
            label="History (newest first; saved under the outputs folder)",
            columns=5,
            height=520,
            object_fit="contain",
            buttons=["download", "fullscreen"],
            elem_id="history",
        )
        with gr.Tabs() as tabs:
            with gr.Tab("Generate", id="generate"):
                with gr.Row():
                    with gr.Column(scale=2):
                        preset = gr.Dropdown([*PRESETS, CUSTOM], value="1024×512", label="Canvas", elem_id="gen-preset")
                        with gr.Row():
                            width = gr.Number(
                                1024, precision=0, minimum=16, maximum=65536, label="Width", elem_id="gen-width"
                            )
                            height = gr.Number(
                                512, precision=0, minimum=16, maximum=65536, label="Height", elem_id="gen-height"
                            )
                        plan = gr.Markdown(elem_id="gen-plan")
                        steps, guidance, seed = sampling_controls(studio, "gen")
                        batch = gr.Slider(1, 8, value=1, step=1, label="Batch count (seed, seed+1, …)")
                        tileable = gr.Checkbox(label="Tileable (wraps around: the picture tiles without seams)")
                        composition = gr.Radio(
                            [(COMPOSITION_LABELS[c], c) for c in ["none", *studio.layouts]],
                            value="none",
                            label="Composition",
                            info="paint on large shapes: a real wallpaper's layout, or a new one from the layout "
                            "model (picked by the seed)",
                            elem_id="gen-composition",
                            visible=bool(studio.layouts),
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
            sp_go, sp_stop, sp_inputs, sp_outputs = span_tab(studio, ev)
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
                            info="harmonized = RePaint resampling, ~4.6× the time"
                            " (no better than fast with the demo model)",
                        )
                        with gr.Row():
                            i_strength = edit_strength_slider(
                                "inpaint", "inp", "1: from pure noise; lower keeps more of the start"
                            )
                            content = gr.Radio(
                                ["fill", "original"],
                                value="fill",
                                label="Start from",
                                info="fill: the picture around it carried in (remove something);"
                                " original: what is there",
                            )
                        with gr.Row():
                            only_masked = gr.Checkbox(label="Only the masked area", value=False)
                            margin = gr.Slider(0, 256, value=64, step=16, label="Margin around it (px)")
                        i_steps, i_guidance, i_seed = sampling_controls(studio, "inp")
                        with gr.Accordion("Advanced", open=False):
                            i_sampler, i_grid, i_eta = solver_controls(studio, "inp")
                i_go, i_stop, i_preview, i_result, i_status, i_seed_used, i_bar = result_panel("inp", "Inpaint")
                i_send = send_row("inp", exclude="inpaint")
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
                        o_go, o_stop, o_preview, o_result, o_status, o_seed_used, o_bar = result_panel(
                            "out", "Outpaint"
                        )
                        o_send = send_row("out", exclude="outpaint")
            with gr.Tab("Sketch", id="sketch"):
                with gr.Row():
                    with gr.Column(scale=3):
                        sk_editor = mask_editor(
                            label="Sketch: paint the layout in colour, or upload a picture to start from",
                            sources=("upload", "clipboard"),
                            layers=False,
                            transforms=(),
                            canvas_size=(1024, 512),
                            brush=gr.Brush(colors=SKETCH_COLOURS, default_color=SKETCH_COLOURS[0], default_size=40),
                            eraser=gr.Eraser(default_size=40),
                            format="png",
                            height=460,
                            elem_id="sk-editor",
                        )
                        with gr.Row():
                            sk_colour = gr.ColorPicker("#87ceeb", label="Canvas colour", elem_id="sk-colour", scale=1)
                            sk_fill = gr.Button("New canvas in this colour", size="sm", elem_id="sk-fill", scale=2)
                    with gr.Column(scale=2):
                        sk_preset = gr.Dropdown(
                            [*PRESETS, CUSTOM], value="1024×512", label="Output size", elem_id="sk-preset"
                        )
                        with gr.Row():
                            sk_width = gr.Number(
                                1024, precision=0, minimum=16, maximum=65536, label="Width", elem_id="sk-width"
                            )
                            sk_height = gr.Number(
                                512, precision=0, minimum=16, maximum=65536, label="Height", elem_id="sk-height"
                            )
                        sk_strength = gr.Slider(
                            0,
                            1,
                            value=0.6,
                            step=0.05,
                            label="Strength",
                            info="0 = the sketch itself; 1 = a new picture in its palette. Transparent = free",
                            elem_id="sk-strength",
                        )
                        sk_steps, sk_guidance, sk_seed = sampling_controls(studio, "sk")
                        with gr.Accordion("Advanced", open=False):
                            sk_sampler, sk_grid, sk_eta = solver_controls(studio, "sk")
                sk_go, sk_stop, sk_preview, sk_result, sk_status, sk_seed_used, sk_bar = result_panel("sk", "Paint")
                sk_send = send_row("sk", exclude="sketch")
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
                        up_go, up_stop, up_preview, up_result, up_status, up_seed_used, up_bar = result_panel(
                            "up", "Upscale"
                        )
                        up_send = send_row("up", exclude="upscale")
            with gr.Tab("History", id="history"):
                gallery.render()
                with gr.Row():
                    refresh = gr.Button("Refresh", size="sm")
                h_send = send_row("hist", exclude=None)
                params = gr.Textbox(
                    label="Parameters (PNG `parameters` chunk)", interactive=False, lines=2, elem_id="hist-params"
                )
                selected = gr.State(None)

        # -- wiring ---------------------------------------------------------------------------
        # every painting job: (button, inputs in API order, its result panel); each is an endpoint named
        # after its handler, admitted (cost cap, queue) before it queues
        jobs = {
            "generate": (
                go,
                [width, height, steps, guidance, seed, batch, mode, tileable, style, g_sampler, g_grid, g_eta]
                + [composition, palette],  # last: API clients written before them keep working
                (g_preview, g_result, g_status, g_seed, g_bar),
            ),
            "inpaint": (
                i_go,
                [editor, blur, method, only_masked, margin, i_steps, i_guidance, i_seed, i_sampler, i_grid, i_eta]
                + [i_strength, content],  # last: API clients written before them keep working
                (i_preview, i_result, i_status, i_seed_used, i_bar),
            ),
            "outpaint": (
                o_go,
                [picture, top, right, bottom, left, feather, o_steps, o_guidance, o_seed, o_sampler, o_grid, o_eta]
                + [o_strength],
                (o_preview, o_result, o_status, o_seed_used, o_bar),
            ),
            "sketch": (
                sk_go,
                [sk_editor, sk_width, sk_height, sk_strength, sk_steps, sk_guidance, sk_seed, sk_sampler, sk_grid]
                + [sk_eta],
                (sk_preview, sk_result, sk_status, sk_seed_used, sk_bar),
            ),
            "upscale": (
                up_go,
                [up_picture, up_factor, up_width, up_height, up_strength, up_steps, up_guidance, up_seed]
                + [up_sampler, up_grid, up_eta],
                (up_preview, up_result, up_status, up_seed_used, up_bar),
            ),
        }
        for name, (button, inputs, (preview, result, status, seed_used, bar)) in jobs.items():
            button.click(
                getattr(ev, name),
                inputs,
                [preview, result, status, seed_used, gallery, bar],
                api_name=name,
                validator=ev.admission(name),
                show_progress_on=[result],
                **MODEL,
            )
        sp_preview, sp_result, sp_status, sp_seed_used, sp_bar, sp_zip = sp_outputs
        sp_go.click(  # a span's job has a seventh output: the ZIP of the monitors' files
            ev.span,
            sp_inputs,
            [sp_preview, sp_result, sp_status, sp_seed_used, gallery, sp_bar, sp_zip],
            api_name="span",
            validator=ev.admission("span"),
            show_progress_on=[sp_result],
            **MODEL,
        )
        stop_reply = gr.Textbox(visible=False)  # for API clients; the job's status line tells the user
        for button in (stop, i_stop, o_stop, sk_stop, up_stop, sp_stop):
            public = button is stop  # one /stop endpoint for API clients
            visibility = "public" if public else "private"
            button.click(
                ev.stop, None, stop_reply, api_name="stop" if public else None, queue=False, api_visibility=visibility
            )

        for pre, w, h in ((preset, width, height), (sk_preset, sk_width, sk_height)):
            pre.change(preset_size, pre, [w, h], **QUICK)
            gr.on([w.input, h.input], lambda: CUSTOM, None, pre, **QUICK)
            gr.on([demo.load, gallery.change], lambda: size_choices(studio), None, pre, **QUICK)
        sk_fill.click(ev.fill_canvas, [sk_colour, sk_width, sk_height], sk_editor, **QUICK)
        up_plan_in = [up_picture, up_factor, up_width, up_height]
        gr.on(
            [up_picture.change, up_factor.change, up_width.change, up_height.change],
            ev.upscale_plan,
            up_plan_in,
            up_plan,
            **QUICK,
        )
        gr.on([demo.load, width.change, height.change, steps.change], ev.plan, [width, height, steps], plan, **QUICK)
        reuse.click(lambda s: s, g_seed, seed, **QUICK)
        layout_in = [picture, top, right, bottom, left, feather]
        gr.on(
            [picture.change, top.release, right.release, bottom.release, left.release, feather.release],
            ev.outpaint_layout,
            layout_in,
            [layout, size],
            api_name="outpaint_layout",
            queue=False,
        )
        demo.load(ev.history, None, gallery, **QUICK)
        refresh.click(ev.history, None, gallery, **QUICK)
        gallery.select(ev.select, None, [selected, params], **QUICK)
        targets = {
            "generate": style,
            "sketch": sk_editor,
            "inpaint": editor,
            "outpaint": picture,
            "upscale": up_picture,
        }
        for buttons, source in (
            (g_send, g_result),
            (sk_send, sk_result),
            (i_send, i_result),
            (o_send, o_result),
            (up_send, up_result),
            (h_send, selected),
        ):
            for tab, button in buttons.items():
                button.click(lambda path, tab=tab: ev.send(path, tab), source, [targets[tab], tabs], **QUICK)
    guard_inputs(demo)
    demo.queue(max_size=queue_size, default_concurrency_limit=1)
    ev.queued, ev.queue_size = lambda: queued_requests(demo), queue_size
    return demo


def size_choices(studio: Studio) -> dict:
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


def queued_requests(demo: gr.Blocks) -> list[object]:
    """The HTTP requests of the jobs in Gradio's queue (the same objects the admission check sees)."""
    queues = demo._queue.event_queue_per_concurrency_id.values()  # Gradio 6's queue; pinned in requirements
    return [event.request for q in queues for event in list(q.queue)]
