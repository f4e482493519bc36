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
    Stop button, its Send-to buttons and what they send, and the input a picture sent to it lands in."""

    api: dict[str, Callable[[], Any]] = field(default_factory=dict)
    stop: gr.Button | None = None
    send: dict[str, gr.Button] = field(default_factory=dict)
    source: Any = None
    target: Any = None


def job_endpoint(
    page: Page, name: str, button: gr.Button, inputs: Sequence[Any], panel: Sequence[Any]
) -> Callable[[], Any]:
    """A painting job's endpoint, named after its action and admitted (cost cap, queue) before it queues.
    `panel` is the tab's (preview, result, status, seed used, progress bar[, download]); the History gallery
    goes in fifth place, so every job streams into the same outputs."""
    preview, result, status, seed_used, bar, *extra = panel
    outputs = [preview, result, status, seed_used, page.gallery, bar, *extra]

    def register() -> Any:
        return button.click(
            getattr(page.ev, name),
            list(inputs),
            outputs,
            api_name=name,
            validator=page.ev.admission(name),
            show_progress_on=[result],
            **MODEL,
        )

    return register
