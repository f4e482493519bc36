"""The bridge between the actions (plain generators of Updates) and Gradio: outputs, toasts, progress, Stop.

Every job streams into the same six outputs: (preview, result, status, seed used, history
gallery, progress bar). Problems with the input become a warning toast plus a status line; anything unexpected
is logged on the server and reported in one sentence. Never a traceback in the UI.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from .cost import JobCost, over_cap
from .imaging import InputError, request_pictures
from .jobs import Jobs, Update

log = logging.getLogger("patchdm.app")


def session_key(request: gr.Request | None) -> str:
    """The browser session (or API client) a job belongs to."""
    return (getattr(request, "session_hash", None) or "anonymous") if request is not None else "anonymous"


def request_token(request: gr.Request | None) -> object | None:
    """What identifies one queued job from its admission to its start: the HTTP request it came with
    (Gradio hands the validator and the job the same object)."""
    return getattr(request, "request", None) if request is not None else None


def arrival(request: gr.Request | None) -> float | None:
    """When the job's request reached the server (serving.ArrivalStamp), or None when it was not stamped."""
    state = getattr(getattr(request, "request", None), "state", None)
    return getattr(state, "arrived", None)


def progress_bar(index: int, total: int) -> str:
    """A thin HTML progress bar (Gradio draws no bar while a generator streams its outputs)."""
    pct = 100.0 * index / total if total else 0.0
    return f'<div class="pdm-bar" title="{index}/{total} steps"><div style="width:{pct:.1f}%"></div></div>'


def stream(
    studio: Any, updates: Callable[[], Iterator[Update]], progress: gr.Progress | None, download: bool = False
) -> Iterator[tuple[Any, ...]]:
    """Run a handler and turn its Updates into output tuples (gr.skip() = unchanged):
    (preview, result, status, seed used, history gallery, progress bar[, download])."""
    try:
        for u in updates():
            if u.note:
                gr.Info(u.note)
            if progress is not None and u.total:
                progress((u.index, u.total), desc="denoising", unit="steps")
            outputs = (
                u.preview if u.preview is not None else gr.skip(),
                str(u.final) if u.final is not None else gr.skip(),
                u.status,
                u.seed if u.seed is not None else gr.skip(),
                studio.history.gallery() if u.history_changed else gr.skip(),
                progress_bar(u.index, u.total) if u.total else gr.skip(),
            )
            yield outputs + ((str(u.download) if u.download else gr.skip(),) if download else ())
    except InputError as exc:
        gr.Warning(str(exc))
        yield status_only(f"⚠ {exc}", download)
    except Exception as exc:  # noqa: BLE001 - report, keep the app alive
        log.exception("job failed")
        message = f"Something went wrong ({type(exc).__name__}: {exc}). The app is ready for the next job."
        gr.Warning(message)
        yield status_only(f"⚠ {message}", download)


def status_only(status: str, download: bool = False) -> tuple[Any, ...]:
    """Outputs that change only the status line."""
    return (gr.skip(), gr.skip(), status, gr.skip(), gr.skip(), gr.skip()) + ((gr.skip(),) if download else ())


class BaseEvents:
    """Event functions with the exact signatures Gradio inspects (Request, Progress): what every tab shares
    (a job's run, its admission, Stop, Send); each tab adds its own (tabs/), and app.studio.Events is all of
    them together."""

    def __init__(self, studio: Any, jobs: Jobs | None = None) -> None:
        self.studio = studio
        self.jobs = jobs or Jobs()
        self.cost = JobCost(studio)
        # set by page.build once the queue exists: the requests of the jobs in Gradio's queue, how many may wait
        self.queued: Callable[[], list[object]] = list
        self.queue_size: int | None = None

    def _job(
        self, request: gr.Request | None, progress: gr.Progress | None, make: Callable, download: bool = False
    ) -> Iterator:
        key = session_key(request)
        flag = self.jobs.start(key, request_token(request), arrival(request))
        if flag is None:  # Stop reached it while it waited in the queue
            yield status_only("Stopped before it started: nothing was computed or saved.", download)
            return
        try:
            yield from stream(self.studio, lambda: make(flag), progress, download)
        finally:
            self.jobs.finish(key, flag)

    def admission(self, kind: str) -> Callable:
        """The validator of a model event: runs when a job asks to be queued (before the queue): refuses a
        job over the cost cap or one more than the queue holds (Gradio checks its length before this runs
        and appends after it, so a burst of joins would all pass its own check), and registers the rest
        so that Stop can cancel them while they wait."""
        event = getattr(self, kind)
        params = [p for name, p in inspect.signature(event).parameters.items() if name != "progress"]

        def validate(*args: Any) -> list[dict]:
            *values, request = args
            refusal = request_pictures(values, self.studio.limits)  # before anything is decoded
            cost = self.cost(kind, tuple(values)) if refusal is None else None
            refusal = refusal or (over_cap(cost, self.studio.limits) if cost is not None else None)
            if refusal is None and not self.jobs.admit(
                session_key(request), request_token(request), self.queued(), self.queue_size
            ):
                refusal = f"the queue is full ({self.queue_size} jobs waiting for the model): try again in a minute"
            # one verdict per input; the refusal is shown on the first (Gradio names it in the message)
            return [gr.validate(refusal is None or i > 0, refusal or "") for i in range(len(values))]

        validate.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        validate.__annotations__ = {"request": gr.Request}  # Gradio injects the request by this hint
        validate.__name__ = f"admit_{kind}"
        return validate

    def stop(self, request: gr.Request) -> str:
        """Stop this session's running job after its current step, and cancel its queued ones."""
        return self.jobs.stop(session_key(request))

    def send(self, path: str | None, tab: str) -> tuple[Any, Any]:
        """Put a picture into another tab (Generate: as the style reference) and switch to it."""
        if not path:
            gr.Warning("pick a picture first")
            return gr.skip(), gr.skip()
        return path, gr.Tabs(selected=tab)
