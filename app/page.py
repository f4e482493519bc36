"""The page: the header, the History gallery that every job refreshes, the tabs in the order they show (each
tab's layout, actions and events are in app/tabs/), what crosses tabs (Stop, Send to, Vary, History's "Use
these settings"), the browser's own storage (its id and every setting, kept across reloads), and the public
endpoints in the order the API page lists them.

All model events share one worker (concurrency_id "model"); the queue is bounded (a full queue
answers "busy, try again"). Small UI helpers (plans, layout sketches, Stop) bypass the queue.
"""

from __future__ import annotations

import hashlib
from typing import Any

import gradio as gr

from patchdm_core.runtime.images import parse_infotext

from .shared.clients import STORAGE_KEY, restore, restored, save_js
from .shared.components import guard_inputs
from .shared.events import session_key
from .shared.history import kind_of, read_parameters
from .shared.tab import QUICK, Page, TabParts, job_endpoint
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
API = ("generate", "inpaint", "outpaint", "sketch", "upscale", "span", "stop", "outpaint_layout", "vary")
SETTINGS_OF = {"monitor1": "span", "monitor2": "span", "vary": "generate"}  # kinds whose settings live elsewhere
CSS = """
#banner {background: #fff4d6; border: 1px solid #e0b100; border-radius: 8px; padding: 6px 12px;}
#gen-plan p, #out-size p, #out-plan p, #up-plan p, #sk-plan p, #inp-plan p, #span-plan p {margin: 2px 0; opacity: 0.85;}
.status textarea {font-family: var(--font-mono); font-size: 13px;}
.pdm-bar {height: 6px; border-radius: 3px; background: var(--neutral-200); overflow: hidden; margin: 0 4px;}
.pdm-bar > div {height: 100%; background: var(--color-accent);}
.pdm-legend {font-size: 13px; display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center;}
.pdm-chip i {display: inline-block; width: 14px; height: 14px; border: 1px solid #8888; border-radius: 3px;
  margin-right: 4px; vertical-align: -2px;}
/* Gradio sizes the gallery's columns by its item count: one picture became one 1200-px square, cut to a band */
#history .grid-container {grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)) !important;}
/* A hidden tab is display:none, so its picture editor (a WebGL canvas) shrinks to nothing and is drawn again,
   several frames at full size, each time the tab shows: seconds of a busy CPU's time with software WebGL
   (a tab click took up to 8 s during a job). Editor tabs stay laid out, invisible, so showing one draws nothing. */
.tabs {position: relative;}
.tabitem.pdm-keep-laid-out[style*="display: none"] {display: flex !important; position: absolute !important;
  top: 0; left: 0; right: 0; visibility: hidden !important; pointer-events: none !important; z-index: -1;}
"""
THEME = gr.themes.Soft(primary_hue="pink", secondary_hue="slate")


def header(studio: Studio) -> str:
    pipe = studio.pipe
    return (
        f"## Patch-DM Studio\nWallpapers of any size from a model that only sees {studio.p}×{studio.p} patches. "
        f"Model **{pipe.name}** (`{pipe.model_hash}`) on **{pipe.device}**. Every tab says how long its job "
        "takes on this machine before you run it; a job larger than this server allows is refused with the "
        "largest size that fits. Settings stay in this browser across reloads."
    )


def build(studio: Studio, events: Events | None = None, queue_size: int = 8) -> gr.Blocks:
    """The whole app as gr.Blocks (queue configured; launch it with theme=THEME, css=CSS)."""
    ev = events or Events(studio)
    with gr.Blocks(title="Patch-DM Studio", analytics_enabled=False, delete_cache=(3600, 24 * 3600)) as demo:
        gr.Markdown(header(studio))
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
        secret = hashlib.sha256(f"patchdm-studio:{studio.history.root}".encode()).hexdigest()[:32]
        stored = gr.BrowserState({}, storage_key=STORAGE_KEY, secret=secret)
        page = Page(studio, ev, demo, gallery)
        with gr.Tabs() as tabs:
            parts = {name: module.tab(page) for name, module in TABS.items()}
        endpoints = {name: wire for part in parts.values() for name, wire in part.api.items()}
        endpoints["stop"] = lambda: wire_stop(ev, [parts[n].stop for n in TABS if parts[n].stop])
        endpoints["vary"] = wire_vary(page, parts)
        if set(endpoints) != set(API):
            raise ValueError(f"the tabs' endpoints {sorted(endpoints)} are not the page's API {sorted(API)}")
        for name in API:
            endpoints[name]()
        wire_send(ev, parts, tabs)
        wire_storage(ev, demo, stored, parts)
        wire_use(parts, tabs)
    guard_inputs(demo)
    demo.queue(max_size=queue_size, default_concurrency_limit=1)
    ev.queued, ev.queue_size = lambda: queued_requests(demo), queue_size
    return demo


def wire_stop(ev: Events, buttons: list[gr.Button]) -> None:
    """Every tab's Stop stops the browser's job, whichever tab started it; the first is the one public /stop
    endpoint for API clients."""
    stop_reply = gr.Textbox(visible=False)  # for API clients; the job's status line tells the user
    for button in buttons:
        public = button is buttons[0]  # one /stop endpoint for API clients
        visibility = "public" if public else "private"
        button.click(
            ev.stop, None, stop_reply, api_name="stop" if public else None, queue=False, api_visibility=visibility
        )


def wire_vary(page: Page, parts: dict[str, TabParts]) -> Any:
    """Every result's Vary buttons (a job of that tab); Generate's subtle one is the public /vary endpoint."""
    wires = []
    for name, part in parts.items():
        if part.panel is None:
            continue
        for how, (button, value) in part.panel.vary.items():
            public = name == "generate" and how == "subtle"
            fn = page.ev.vary if public else page.ev.vary_in(name)
            inputs = [part.panel.result, value]
            wires.append(job_endpoint(page, "vary", inputs, part.panel, button=button, fn=fn, public=public))

    def register() -> None:
        for wire in wires:
            wire()

    return register


def wire_send(ev: Events, parts: dict[str, TabParts], tabs: gr.Tabs) -> None:
    """Send-to buttons: put a tab's result (the History's picked picture) into a tab and switch to it."""
    for part in parts.values():
        for tab, button in part.buttons.items():
            target = parts[tab]

            def send(path: str | None, tab: str = tab) -> tuple[Any, Any]:
                return ev.send(path, tab)

            event = button.click(send, part.source, [target.target, tabs], **QUICK)
            if target.refresh is not None:
                fn, inputs, outputs = target.refresh
                event.then(fn, inputs, outputs, **QUICK)


def wire_storage(ev: Events, demo: gr.Blocks, stored: gr.BrowserState, parts: dict[str, TabParts]) -> None:
    """The browser's storage: when the page loads, it says which browser it is (its job and Stop find it after
    a reload), its settings are put back, and each tab says how its last job went; every change of a kept
    setting is written back in the browser (no request)."""
    keep = {name: c for part in parts.values() for name, c in part.keep.items()}
    panels = {name: part.panel for name, part in parts.items() if part.panel is not None}

    def welcome(value: Any, request: gr.Request) -> list[Any]:
        value = value if isinstance(value, dict) else {}
        client = ev.clients.hello(session_key(request), value.get("client"))
        return [{**value, "client": client}, *restore(keep, value)]

    def resume(request: gr.Request) -> list[Any]:
        return [out for name in panels for out in ev.catch_up(name, request, reloaded=True)]

    loaded = demo.load(welcome, stored, [stored, *keep.values()], **QUICK)
    loaded.then(resume, None, [c for panel in panels.values() for c in panel.followed()], **QUICK)
    names, controls = list(keep), list(keep.values())
    gr.on([c.change for c in controls], None, [stored, *controls], stored, js=save_js(names), **QUICK)


def wire_use(parts: dict[str, TabParts], tabs: gr.Tabs) -> None:
    """History's "Use these settings": the picked picture's parameters into the tab that made it."""
    source = next((p for p in parts.values() if p.use is not None), None)
    if source is None:
        return
    keep = {name: c for part in parts.values() for name, c in part.keep.items()}

    def use(path: str | None) -> list[Any]:
        skip = [gr.skip()] * len(keep)
        if not path:
            gr.Warning("pick a picture first")
            return [gr.skip(), *skip]
        kind = kind_of(path)
        tab = SETTINGS_OF.get(kind, kind)
        if tab not in parts or parts[tab].settings is None:
            gr.Warning("this picture has no settings a tab can use")
            return [gr.skip(), *skip]
        values = parts[tab].settings(parse_infotext(read_parameters(path)))
        gr.Info(f"{tab}: the settings of this picture are in place")
        return [gr.Tabs(selected=tab), *(restored(c, values[n]) if n in values else gr.skip() for n, c in keep.items())]

    source.use.click(use, source.source, [tabs, *keep.values()], **QUICK)


def queued_requests(demo: gr.Blocks) -> list[object]:
    """The HTTP requests of the jobs in Gradio's queue (the same objects the admission check sees)."""
    queues = demo._queue.event_queue_per_concurrency_id.values()  # Gradio 6's queue; pinned in requirements
    return [event.request for q in queues for event in list(q.queue)]
