"""The model's own thread: every painting job runs there, one at a time, apart from the request that started it.

The request (a Gradio event, on the queue's single "model" slot) hands its job to the runner and relays what
the job reports (`Run.follow`). A page that goes away (a reload, a closed tab) leaves its job painting: the
picture is saved to the History and the reloaded page finds the job's `Record` by its browser (clients.py)
and shows how it went, or follows it to the end. A job of an API client stops when the client cancels or
goes away, as before (the page decides which: events.BaseEvents._job).

Relaying also coalesces: a client slower than the model gets the newest status and preview, not a backlog.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from .imaging import InputError
from .jobs import Update, fmt_seconds
from .pace import Pace, fmt_duration

log = logging.getLogger("patchdm.app")


@dataclass
class Record:
    """What a browser sees of its latest job, kept after its page went away."""

    kind: str  # the tab that started it
    cost: float = 0.0  # megapixel-steps
    steps: int = 0  # steps (network evaluations) the admission counted
    estimate: float | None = None  # seconds, from the pace, before it started
    state: str = "waiting"  # waiting, running, done, stopped, failed
    status: str = ""
    index: int = 0
    total: int = 0
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    ended: float | None = None
    finals: list[Path] = field(default_factory=list)
    seed: int | None = None  # the seed of the newest finished picture
    preview: Image.Image | None = None
    previews: int = 0  # how many previews it has shown (a follower shows only new ones)
    seen: bool = False  # its end reached a page (the one that started it, or the same browser after a reload)
    followers: int = 0  # relays streaming it now (0: its page went away)
    shown: int = 0  # previews a page that catches up has shown
    first_step: tuple[int, float] | None = None  # (steps done, time.monotonic) when its first step ended
    last_step: tuple[int, float] | None = None

    def left(self, now: float | None = None) -> float | None:
        """Seconds until it ends: measured from its steps once it has run one, else its estimate."""
        now = time.monotonic() if now is None else now
        if self.state not in ("waiting", "running"):
            return 0.0
        if self.first_step and self.last_step and self.last_step[0] > self.first_step[0]:  # its steps' own pace
            per = (self.last_step[1] - self.first_step[1]) / (self.last_step[0] - self.first_step[0])
            return max(0.0, per * (self.total - self.index) - (now - self.last_step[1]))
        if self.started is not None and self.index > 0 and self.total:
            per = (now - self.started) / self.index
            return max(0.0, per * (self.total - self.index))
        if self.estimate is None:
            return None
        return max(0.0, self.estimate - (now - self.started if self.started else 0.0))


class Run:
    """One job on the runner: its work, its record, and the mailbox its relay reads."""

    def __init__(self, key: str, record: Record, work: Callable[[], Iterator[Update]], on_end: Callable[[], None]):
        self.key, self.record, self.work, self.on_end = key, record, work, on_end
        self._box: list[Update] = []
        self._cond = threading.Condition()
        self.finished = False

    def post(self, u: Update) -> None:
        """The job reports an Update: recorded, and handed to whoever follows it."""
        rec = self.record
        with self._cond:
            rec.status = u.status or rec.status
            if u.total and u.final is None:  # a step: its time, for the pace and the time left
                now = time.monotonic()
                rec.first_step = rec.first_step or (u.index, now)
                rec.last_step = (u.index, now)
            if u.total:
                rec.index, rec.total = u.index, u.total
            if u.preview is not None:
                rec.preview, rec.previews = u.preview, rec.previews + 1
            if u.final is not None:
                rec.finals.append(u.final)
                rec.seed = u.seed
            if u.stopped:
                rec.state = "stopped"
            elif u.warning and rec.state != "stopped":
                rec.state = "failed"
            self._box.append(u)
            self._cond.notify_all()

    def end(self) -> None:
        with self._cond:
            self.finished = True
            self._cond.notify_all()

    def follow(self) -> Iterator[Update]:
        """The Updates as they come (for one relay), the ones only a newer one replaces coalesced."""
        while True:
            with self._cond:
                while not self._box and not self.finished:
                    self._cond.wait()
                batch, self._box = self._box, []
                finished = self.finished and not self._box
            yield from coalesce(batch)
            if finished:
                return


def coalesce(batch: list[Update]) -> list[Update]:
    """Keep every Update that carries something of its own (a picture, a toast, a file, the history), and of
    the plain progress ones only the newest, with the newest preview among them."""
    kept: list[Update] = []
    pending: Update | None = None
    for u in batch:
        if u.final is not None or u.note or u.warning or u.download or u.history_changed or u.stopped:
            if pending is not None:
                kept.append(pending)
                pending = None
            kept.append(u)
        else:
            if pending is not None and u.preview is None and pending.preview is not None:
                u.preview = pending.preview
            pending = u
    return kept + ([pending] if pending is not None else [])


class Runner:
    """One thread for the model; jobs wait their turn in order. `records` keeps each key's latest job."""

    def __init__(self, pace: Pace | None = None) -> None:
        self.pace = pace or Pace()
        self.records: dict[str, Record] = {}
        self.current: Run | None = None
        self._waiting: list[Run] = []
        self._jobs: queue.Queue[Run] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(
        self,
        key: str,
        kind: str,
        work: Callable[[], Iterator[Update]],
        size: tuple[float, int],
        on_end: Callable[[], None],
    ) -> Run:
        """Queue a job of `size` = (megapixel-steps, steps); it runs when the jobs before it are done."""
        cost, steps = size
        record = Record(kind, cost=cost, steps=steps, estimate=self.pace.seconds(cost, steps) if cost else None)
        run = Run(key, record, work, on_end)
        with self._lock:
            self.records[key] = record
            self._waiting.append(run)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="patchdm-model", daemon=True)
                self._thread.start()
        self._jobs.put(run)
        return run

    def ahead(self, run: Run | None = None) -> list[Record]:
        """The records of the jobs the model will finish before `run` starts (all of them for None)."""
        with self._lock:
            current = [self.current.record] if self.current is not None and self.current is not run else []
            waiting = self._waiting[: self._waiting.index(run)] if run in self._waiting else list(self._waiting)
            return current + [r.record for r in waiting]

    def _loop(self) -> None:
        while True:
            run = self._jobs.get()
            with self._lock:
                self._waiting.remove(run)
                self.current = run
            try:
                self._execute(run)
            finally:
                with self._lock:
                    self.current = None

    def _execute(self, run: Run) -> None:
        rec = run.record
        rec.state, rec.started = "running", time.monotonic()
        if rec.estimate is not None:
            run.post(Update(f"Starting · about {fmt_duration(rec.estimate)} here"))
        try:
            for u in run.work():
                run.post(u)
        except InputError as exc:
            run.post(Update(f"⚠ {exc}", warning=str(exc)))
        except Exception as exc:  # noqa: BLE001 - report, keep the app alive
            log.exception("job failed")
            message = f"Something went wrong ({type(exc).__name__}: {exc}). The app is ready for the next job."
            run.post(Update(f"⚠ {message}", warning=message))
        finally:
            rec.ended = time.monotonic()
            if rec.state == "running":
                rec.state = "done"
                self._measure(run)
            run.on_end()
            run.end()

    def _measure(self, run: Run) -> None:
        """A finished job's steps and its whole time, for the pace (pace.py)."""
        rec = run.record
        if not (rec.finals and rec.cost and rec.total and rec.first_step and rec.last_step):
            return
        steps = rec.last_step[0] - rec.first_step[0]
        took = rec.ended - rec.started
        if steps > 0:
            step = (rec.last_step[1] - rec.first_step[1]) / steps  # seconds a step, its first one left out
            self.pace.record(rec.cost / rec.total, step, took - rec.total * step)
        log.info("%s: %.3g megapixel-steps in %s", rec.kind, rec.cost, fmt_seconds(took))
