"""The History tab: every finished picture (newest first, from the outputs folder), the parameters stored in
the one picked, and Send-to buttons that put it into another tab. The gallery itself is made by the page
(every finished job refreshes it) and placed here.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ..shared.events import BaseEvents
from ..shared.history import read_parameters
from ..shared.tab import QUICK, Page, TabParts
from ..shared.widgets import send_row


class HistoryEvents(BaseEvents):
    """The History's events with the signatures Gradio inspects."""

    def history(self) -> list[tuple[str, str]]:
        """Every saved picture, newest first."""
        return self.studio.history.gallery()

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


def tab(page: Page) -> TabParts:
    """Build the tab (inside gr.Tabs) and wire its gallery; it runs no job."""
    ev, gallery = page.ev, page.gallery
    with gr.Tab("History", id="history"):
        gallery.render()
        with gr.Row():
            refresh = gr.Button("Refresh", size="sm")
        h_send = send_row("hist", exclude=None)
        params = gr.Textbox(
            label="Parameters (PNG `parameters` chunk)", interactive=False, lines=2, elem_id="hist-params"
        )
        selected = gr.State(None)
    page.demo.load(ev.history, None, gallery, **QUICK)
    refresh.click(ev.history, None, gallery, **QUICK)
    gallery.select(ev.select, None, [selected, params], **QUICK)
    return TabParts(send=h_send, source=selected)
