"""The page: the header, the History gallery that every job refreshes, the tabs in the order they show (each
tab's layout, actions and events are in app/tabs/), what crosses tabs (Stop, Send to), and the public
endpoints in the order the API page lists them.

All model events share one worker (concurrency_id "model"); the queue is bounded (a full queue
answers "busy, try again"). Small UI helpers (plans, layout sketches, Stop) bypass the queue.
"""

from __future__ import annotations

import gradio as gr

from .shared.components import guard_inputs
from .shared.tab import QUICK, Page, TabParts
from .studio import Events, Studio
from .tabs import generate, history, inpaint, outpaint, sketch, span, upscale

TABS = {  # in the order they show
    "generate": generate,
    "span": span,
    "inpaint": inpaint,
    "outpaint": outpaint,
    "sketch": sketch,
    "upscale": upscale,
    "history": history,
}
# the public endpoints in the order the API page lists them (Gradio numbers its events in this order)
API = ("generate", "inpaint", "outpaint", "sketch", "upscale", "span", "stop", "outpaint_layout")
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
        page = Page(studio, ev, demo, gallery)
        with gr.Tabs() as tabs:
            parts = {name: module.tab(page) for name, module in TABS.items()}
        endpoints = {name: wire for part in parts.values() for name, wire in part.api.items()}
        endpoints["stop"] = lambda: wire_stop(ev, [parts[n].stop for n in API if n in parts and parts[n].stop])
        if set(endpoints) != set(API):
            raise ValueError(f"the tabs' endpoints {sorted(endpoints)} are not the page's API {sorted(API)}")
        for name in API:
            endpoints[name]()
        wire_send(ev, parts, tabs)
    guard_inputs(demo)
    demo.queue(max_size=queue_size, default_concurrency_limit=1)
    ev.queued, ev.queue_size = lambda: queued_requests(demo), queue_size
    return demo


def wire_stop(ev: Events, buttons: list[gr.Button]) -> None:
    """Every tab's Stop stops the session's job, whichever tab started it; the first is the one public /stop
    endpoint for API clients."""
    stop_reply = gr.Textbox(visible=False)  # for API clients; the job's status line tells the user
    for button in buttons:
        public = button is buttons[0]  # one /stop endpoint for API clients
        visibility = "public" if public else "private"
        button.click(
            ev.stop, None, stop_reply, api_name="stop" if public else None, queue=False, api_visibility=visibility
        )


def wire_send(ev: Events, parts: dict[str, TabParts], tabs: gr.Tabs) -> None:
    """Send-to buttons: put a tab's result (the History's picked picture) into another tab and switch to it."""
    for part in parts.values():
        for tab, button in part.send.items():
            button.click(lambda path, tab=tab: ev.send(path, tab), part.source, [parts[tab].target, tabs], **QUICK)


def queued_requests(demo: gr.Blocks) -> list[object]:
    """The HTTP requests of the jobs in Gradio's queue (the same objects the admission check sees)."""
    queues = demo._queue.event_queue_per_concurrency_id.values()  # Gradio 6's queue; pinned in requirements
    return [event.request for q in queues for event in list(q.queue)]
