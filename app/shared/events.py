"""The bridge between the actions (plain generators of Updates) and Gradio: outputs, toasts, progress, Stop.

Every job streams into the same outputs: (preview, result, status, seed used, history gallery, progress bar
[, download], the batch's pictures). The job itself runs on the model's thread (runner.py); the event relays
it. Problems with the input become a warning toast plus a status line; anything unexpected is logged on the
server and reported in one sentence. Never a traceback in the UI.

"Seed used" changes only with a finished picture, so it always names the seed of the picture in Result (a
running or stopped job names its seed in the status line).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from . import fit
from .clients import Clients
from .cost import JobCost
from .follow import Following, progress_bar
from .imaging import request_pictures
from .jobs import Jobs, Update
from .runner import Runner

log = logging.getLogger("patchdm.app")


def session_key(request: gr.Request | None) -> str:
    """The Gradio session (a page load, or an API client) a request belongs to."""
    return (getattr(request, "session_hash", None) or "anonymous") if request is not None else "anonymous"


def request_token(request: gr.Request | None) -> object | None:
    """What identifies one queued job from its admission to its start: the HTTP request it came with
    (Gradio hands the validator and the job the same object)."""
    return getattr(request, "request", None) if request is not None else None


def arrival(request: gr.Request | None) -> float | None:
    """When the job's request reached the server (serving.ArrivalStamp), or None when it was not stamped."""
    state = getattr(getattr(request, "request", None), "state", None)
    return getattr(state, "arrived", None)


def status_only(status: str, download: bool = False) -> tuple[Any, ...]:
    """Outputs that change only the status line."""
    return (
        (gr.skip(), gr.skip(), status, gr.skip(), gr.skip(), gr.skip())
        + ((gr.skip(),) if download else ())
        + (gr.skip(),)
    )


class BaseEvents(Following):
    """Event functions with the exact signatures Gradio inspects (Request, Progress): what every tab shares
    (a job's run, its admission, Stop, Send); each tab adds its own (tabs/), and app.studio.Events is all of
    them together."""

    def __init__(self, studio: Any, jobs: Jobs | None = None) -> None:
        self.studio = studio
        self.jobs = jobs or Jobs()
        self.cost = JobCost(studio)
        self.runner = Runner(studio.pace)
        self.clients = Clients()
        # set by page.build once the queue exists: the requests of the jobs in Gradio's queue, how many may wait
        self.queued: Callable[[], list[object]] = list
        self.queue_size: int | None = None

    def key(self, request: gr.Request | None) -> str:
        """What this request's jobs are keyed by: its browser (after the page said hello) or its session."""
        return self.clients.key(session_key(request))

    def outputs(self, u: Update, progress: gr.Progress | None, finals: list, download: bool = False) -> tuple:
        """One Update as the panel's outputs (gr.skip() = unchanged)."""
        if u.note:
            gr.Info(u.note)
        if u.warning:
            gr.Warning(u.warning)
        if progress is not None and u.total:
            progress((u.index, u.total), desc="denoising", unit="steps")
        out = (
            u.preview if u.preview is not None else gr.skip(),
            str(u.final) if u.final is not None else gr.skip(),
            u.status,
            u.seed if u.final is not None and u.seed is not None else gr.skip(),
            self.studio.history.gallery() if u.history_changed else gr.skip(),
            progress_bar(u.index, u.total) if u.total else gr.skip(),
        )
        out += (str(u.download) if u.download else gr.skip(),) if download else ()
        return out + ([str(f) for f in finals] if u.final is not None else gr.skip(),)

    def _job(
        self,
        request: gr.Request | None,
        progress: gr.Progress | None,
        make: Callable,
        download: bool = False,
        kind: str = "job",
    ) -> Iterator:
        """Hand the job to the model's thread and relay what it reports. A page's job goes on painting when the
        page goes away (its picture is saved, and the reloaded page finds it); an API client's stops."""
        key, token = self.key(request), request_token(request)
        work = self.jobs.work(token) if token is not None else (0.0, 0)
        flag = self.jobs.start(key, token, arrival(request))
        if flag is None:  # Stop reached it while it waited in the queue
            yield status_only("Stopped before it started: nothing was computed or saved.", download)
            return
        run = self.runner.submit(key, kind, lambda: make(flag), work, lambda: self.jobs.finish(key, flag))
        if ahead := self.runner.ahead(run):
            yield status_only(self.wait_text(ahead, [], work), download)
        page = self.clients.is_page(session_key(request))
        run.record.followers += 1
        relayed = False
        try:
            for u in run.follow():
                yield self.outputs(u, progress, run.record.finals, download)
            relayed = True
        finally:
            run.record.followers -= 1
            run.record.seen = run.record.seen or relayed
            if not relayed and not page:  # an API client cancelled or went away: its job stops after this step
                flag.set()

    def admission(self, kind: str) -> Callable:
        """The validator of a model event: runs when a job asks to be queued (before the queue): refuses a
        job that does not fit (fit.py: pixels, memory, cost) or one more than the queue holds (Gradio checks
        its length before this runs and appends after it, so a burst of joins would all pass its own check),
        and registers the rest, with their cost, so that Stop can cancel them and waits can be estimated."""
        event = getattr(self, kind)
        params = [p for name, p in inspect.signature(event).parameters.items() if name != "progress"]

        def validate(*args: Any) -> list[dict]:
            *values, request = args
            refusal = request_pictures(values, self.studio.limits)  # before anything is decoded
            need = self.cost(kind, tuple(values)) if refusal is None else None
            refusal = refusal or (fit.refusal(self.studio, need) if need is not None else None)
            work = need.work(self.studio.p) if need is not None else (0.0, 0)
            if refusal is None and not self.jobs.admit(
                self.key(request), request_token(request), self.queued(), self.queue_size, work
            ):
                refusal = f"the queue is full ({self.queue_size} jobs waiting for the model): try again in a minute"
            # one verdict per input; the refusal is shown on the first (Gradio names it in the message)
            return [gr.validate(refusal is None or i > 0, refusal or "") for i in range(len(values))]

        validate.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        validate.__annotations__ = {"request": gr.Request}  # Gradio injects the request by this hint
        validate.__name__ = f"admit_{kind}"
        return validate

    def stop(self, request: gr.Request) -> str:
        """Stop this browser's (or API client's) running job after its current step, and cancel its queued ones."""
        return self.jobs.stop(self.key(request))

    def send(self, path: str | None, tab: str) -> tuple[Any, Any]:
        """Put a picture into another tab (Generate: as the style reference) and switch to it."""
        if not path:
            gr.Warning("pick a picture first")
            return gr.skip(), gr.skip()
        return path, gr.Tabs(selected=tab)
