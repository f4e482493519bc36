"""What passes between the page and a tab: what a tab's builder gets (`Page`) and hands back (`TabParts`), and
how a painting job becomes a public endpoint.

A tab builds its layout and wires the events that stay inside it; the page wires what crosses tabs (Stop,
Send to) and registers the public endpoints, in the order the API page lists them.

A tab wires its own helpers with named functions, not lambdas: Gradio names unnamed events lambda, lambda_1, ...
in the order they are registered, and the result panels' seed mirrors are public under such names (/lambda,
/lambda_1, /lambda_3, ...), so one more lambda ahead of them would rename endpoints (tests/app/test_page.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

# every model event shares one worker (concurrency_id "model"); small UI helpers bypass the queue
MODEL = {"concurrency_id": "model", "concurrency_limit": 1, "trigger_mode": "once"}
QUICK = {"queue": False, "api_visibility": "private"}


@dataclass
class Page:
    """What every tab's builder gets: the studio, its events, the Blocks (for its load event) and the History
    gallery that every finished job refreshes."""

    studio: Any
    ev: Any
    demo: gr.Blocks
    gallery: gr.Gallery


@dataclass
class TabParts:
    """What the page needs from a tab: its public endpoints by name (each registers itself when called), its
    result panel (Stop, Send to, Vary, the follow-up timer), what its Send-to buttons send, the input a picture
    sent to it lands in, the controls a browser keeps across reloads (by name), and how a past picture's
    parameters become values of those controls (History's "Use these settings")."""

    api: dict[str, Callable[[], Any]] = field(default_factory=dict)
    panel: Any = None
    source: Any = None
    target: Any = None
    keep: dict[str, Any] = field(default_factory=dict)
    settings: Callable[[dict[str, str]], dict[str, Any]] | None = None
    send: dict[str, gr.Button] = field(default_factory=dict)  # a tab without a result panel (History)
    refresh: tuple[Callable, list[Any], Any] | None = None  # (fn, inputs, outputs) to run when a picture arrives
    use: gr.Button | None = None  # History's "Use these settings"

    @property
    def stop(self) -> gr.Button | None:
        return self.panel.stop if self.panel is not None else None

    @property
    def buttons(self) -> dict[str, gr.Button]:
        return self.panel.send if self.panel is not None else self.send


def job_endpoint(
    page: Page,
    name: str,
    inputs: Sequence[Any],
    panel: Any,
    download: Any = None,
    button: gr.Button | None = None,
    fn: Callable | None = None,
    public: bool = True,
) -> Callable[[], Any]:
    """A painting job's endpoint, named after its action (`fn`: another function for it) and admitted (fit,
    cost, queue) before it queues. Outputs: the panel's preview, result, status, seed used, the History gallery
    (every job streams into it), the progress bar[, the download], and the batch's pictures (a State: no API
    output). The button (the panel's run button by default) also says at once, in the status line, why a job
    is refused or how long it will wait."""
    outputs = [panel.preview, panel.result, panel.status, panel.seed_used, page.gallery, panel.bar]
    outputs += [download] if download is not None else []
    outputs += [panel.batch]
    button = button or panel.run

    def register() -> Any:
        button.click(page.ev.clicked(name), list(inputs), [panel.status, panel.timer], **QUICK)
        return button.click(
            fn or getattr(page.ev, name),
            list(inputs),
            outputs,
            api_name=name if public else None,
            api_visibility="public" if public else "private",
            validator=page.ev.admission(name),
            show_progress_on=[panel.result],
            **MODEL,
        )

    return register


def follow_up(page: Page, kind: str, panel: Any) -> None:
    """The panel's timer: while this page's job waits in the queue, or after a reload while the job it started
    before is painting, the status (and preview, and at the end the picture) follow it."""

    def tick(request: gr.Request) -> tuple:
        return page.ev.catch_up(kind, request)

    tick.__name__ = f"follow_{kind}"
    panel.timer.tick(tick, None, panel.followed(), **QUICK, show_progress="hidden")
