"""The History tab: every finished picture (newest first, from the outputs folder), filtered by the job that
made it or by what its parameters say; the parameters stored in the one picked; its settings put back into
the tab that made it ("Use these settings", as A1111's PNG Info → txt2img; wired by the page, which knows
every tab); Send to; and Delete (the file moves to the outputs' deleted/ folder, out of the History but not
lost). The gallery itself is made by the page (every finished job refreshes it) and placed here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from ..shared.events import BaseEvents
from ..shared.history import read_parameters
from ..shared.tab import QUICK, Page, TabParts
from ..shared.widgets import send_row

KINDS = [("every picture", ""), *((k, k) for k in ("generate", "span", "inpaint", "outpaint", "sketch", "upscale"))]
KINDS += [("variations", "vary")]
CONFIRM = (
    "(path) => path && confirm('Delete this picture from the History? (it moves to the deleted folder)') ? path : null"
)


class HistoryEvents(BaseEvents):
    """The History's events with the signatures Gradio inspects."""

    def history(self, kind: str | None = "", text: str | None = "") -> list[tuple[str, str]]:
        """The saved pictures, newest first, of one kind and holding `text` in their parameters when given."""
        kind = kind if kind in {k for _, k in KINDS} else ""
        return self.studio.history.gallery(kind=kind or "", text=str(text or "")[:200])

    def select(self, evt: gr.SelectData) -> tuple[str | None, str]:
        """Remember the picked history picture and show its parameters."""
        value = evt.value if isinstance(evt.value, dict) else {}
        image = value.get("image", value)
        served = image.get("path") if isinstance(image, dict) else None
        # Gradio serves a cached copy that keeps the file name; history names are unique.
        path = self.studio.history.root / Path(served).name if served else None
        if path is None or not self.studio.history.serves(path):
            items = self.studio.history.items()
            path = items[evt.index] if isinstance(evt.index, int) and evt.index < len(items) else None
        path = str(path) if path else None
        return path, read_parameters(path) or "(no parameters stored)"

    def delete(self, path: str | None, kind: str | None, text: str | None) -> tuple[Any, Any, Any]:
        """Take the picked picture out of the History (into deleted/); the gallery without it."""
        if not path:
            return gr.skip(), gr.skip(), gr.skip()
        moved = self.studio.history.delete(path)
        if moved is None:
            gr.Warning("that picture is no longer in the History")
        else:
            gr.Info(f"moved to {moved.parent.name}/{moved.name}")
        return self.history(kind, text), None, ""


def tab(page: Page) -> TabParts:
    """Build the tab (inside gr.Tabs) and wire its gallery; it runs no job."""
    ev, gallery = page.ev, page.gallery
    with gr.Tab("History", id="history"):
        with gr.Row():
            kind = gr.Dropdown(KINDS, value="", label="Show", elem_id="hist-kind", scale=1)
            text = gr.Textbox(
                "", label="Search the parameters", placeholder="seed, size, composition, …", max_lines=1,
                elem_id="hist-search", scale=2,
            )  # fmt: skip
            refresh = gr.Button("Refresh", size="sm", elem_id="hist-refresh", scale=0)
        gallery.render()
        with gr.Row():
            use = gr.Button("Use these settings", size="sm", variant="primary", elem_id="hist-use")
            delete = gr.Button("Delete", size="sm", variant="stop", elem_id="hist-delete")
        h_send = send_row("hist")
        params = gr.Textbox(
            label="Parameters (PNG `parameters` chunk)", interactive=False, lines=2, elem_id="hist-params"
        )
        selected = gr.State(None)
    page.demo.load(ev.history, None, gallery, **QUICK)
    gr.on([refresh.click, kind.change, text.submit], ev.history, [kind, text], gallery, **QUICK)
    gallery.select(ev.select, None, [selected, params], **QUICK)
    delete.click(ev.delete, [selected, kind, text], [gallery, selected, params], js=CONFIRM_JS, **QUICK)
    return TabParts(send=h_send, source=selected, use=use)


CONFIRM_JS = f"(path, kind, text) => [({CONFIRM})(path), kind, text]"
