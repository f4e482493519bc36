"""What a page sees of a job it is not streaming: its own job while it waits in the queue ("Waiting: 1 job
ahead, about 20 s before yours starts"), and after a reload the job it started before (still painting, or
how it ended, with its picture). A tab's timer asks every two seconds while there is something to show and
stops itself when there is not, so an idle page sends no requests.
"""

from __future__ import annotations

import inspect
from typing import Any

import gradio as gr

from . import fit
from .imaging import request_pictures
from .pace import fmt_duration
from .runner import Record

TICK_S = 2.0  # how often a waiting or reloaded page asks


def progress_bar(index: int, total: int) -> str:
    """A thin HTML progress bar (Gradio draws no bar while a generator streams its outputs)."""
    pct = 100.0 * index / total if total else 0.0
    return f'<div class="pdm-bar" title="{index}/{total} steps"><div style="width:{pct:.1f}%"></div></div>'


def jobs_word(n: int) -> str:
    return f"{n} job{'s' if n != 1 else ''}"


class Following:
    """Waiting and catching-up texts; mixed into events.BaseEvents (which gives studio, jobs, runner, queued)."""

    studio: Any
    jobs: Any
    runner: Any
    cost: Any
    queued: Any

    def key(self, request: gr.Request | None) -> str:  # events.BaseEvents
        raise NotImplementedError

    def wait_text(self, ahead: list[Record], queued: list[tuple[float, int]], own: tuple[float, int] | None) -> str:
        """'Waiting: 2 jobs ahead, about 40 s before yours starts (yours: about 10 s)'; a job's work is its
        (megapixel-steps, steps)."""
        pace = self.studio.pace
        lefts = [r.left() for r in ahead] + [pace.seconds(*w) if w[0] else None for w in queued]
        count = jobs_word(len(lefts))
        if not lefts:
            return "Waiting for the model…"
        if any(v is None for v in lefts):
            wait = "its time is not measured yet" if len(lefts) == 1 else "their time is not measured yet"
            text = f"Waiting: {count} ahead ({wait})"
        else:
            text = f"Waiting: {count} ahead, about {fmt_duration(sum(lefts))} before yours starts"
        mine = pace.seconds(*own) if own and own[0] else None
        return text + (f" (yours: about {fmt_duration(mine)})" if mine is not None else "")

    def waiting_for(self, key: str) -> tuple[list[Record], list[tuple[float, int]], tuple[float, int]] | None:
        """What is ahead of this key's first job still in the queue: (records on the model, costs of the
        queued jobs before it, its own cost), or None when it has none waiting."""
        queue = list(self.queued())
        mine = self.jobs.waiting(key)
        places = [i for i, q in enumerate(queue) if any(q is t for t in mine)]
        if not places:
            return None
        first = places[0]
        return self.runner.ahead(), [self.jobs.work(t) for t in queue[:first]], self.jobs.work(queue[first])

    def clicked(self, kind: str) -> Any:
        """The quick handler of a tab's run button (beside its job): the refusal in the status line when the
        job cannot run, else, when the model is busy, how long it will wait (and the tab's timer starts)."""
        event = getattr(self, kind)
        params = [p for n, p in inspect.signature(event).parameters.items() if n != "progress"]

        def on_click(*args: Any) -> tuple[Any, Any]:
            *values, request = args
            refusal = request_pictures(values, self.studio.limits)
            need = self.cost(kind, tuple(values)) if refusal is None else None
            refusal = refusal or (fit.refusal(self.studio, need) if need is not None else None)
            if refusal is not None:
                return f"⚠ {refusal}", gr.Timer(active=False)
            ahead = self.runner.ahead()
            mine = {id(t) for t in self.jobs.waiting(self.key(request))}
            queued = [self.jobs.work(t) for t in self.queued() if id(t) not in mine]
            if not ahead and not queued:
                return gr.skip(), gr.skip()
            own = need.work(self.studio.p) if need is not None else None
            return self.wait_text(ahead, queued, own), gr.Timer(active=True)

        on_click.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        on_click.__annotations__ = {"request": gr.Request}
        on_click.__name__ = f"clicked_{kind}"
        return on_click

    def catch_up(self, kind: str, request: gr.Request | None, reloaded: bool = False) -> tuple:
        """(status, preview, result, seed used, progress bar, timer) of this tab for a page that is not
        streaming its job: waiting in the queue, painting since before a reload, or how it ended."""
        skip = gr.skip()
        key = self.key(request)
        waiting = self.waiting_for(key)
        if waiting is not None:
            return self.wait_text(*waiting), skip, skip, skip, skip, gr.Timer(active=True)
        rec: Record | None = self.runner.records.get(key)
        if rec is None or rec.kind != kind or rec.followers > 0:
            return skip, skip, skip, skip, skip, gr.Timer(active=False)
        bar = progress_bar(rec.index, rec.total) if rec.total else skip
        if rec.state in ("waiting", "running"):
            preview = rec.preview if rec.preview is not None and (reloaded or rec.previews > rec.shown) else skip
            rec.shown = rec.previews
            return (
                f"Still painting since before the reload · {rec.status}",
                preview,
                skip,
                skip,
                bar,
                gr.Timer(active=True),
            )
        if rec.seen and not reloaded:
            return skip, skip, skip, skip, skip, gr.Timer(active=False)
        rec.seen = True
        when = "Your last job (before the reload)" if reloaded else "While the page was away, your job"
        outcome = {"done": "finished", "stopped": "was stopped", "failed": "failed"}[rec.state]
        result = str(rec.finals[-1]) if rec.finals and rec.state == "done" else skip
        seed = rec.seed if rec.finals and rec.state == "done" else skip
        return f"{when} {outcome}: {rec.status}", skip, result, seed, bar, gr.Timer(active=False)
