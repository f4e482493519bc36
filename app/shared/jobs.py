"""Job plumbing shared by every action: Updates to the UI, per-session stop flags, and the loop that
turns sampler Steps into Updates (status with elapsed/ETA every step, a preview every few steps)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from torch import Tensor

from patchdm_core.sampling.noise import resolve_seed
from patchdm_core.sampling.solvers import Step

from .imaging import number


@dataclass
class Update:
    """One message from a running job to the UI; None fields leave that output unchanged."""

    status: str
    preview: Image.Image | None = None  # downscaled predicted clean picture
    final: Path | None = None  # a finished full-resolution PNG in the history
    seed: int | None = None  # the seed in use
    index: int = 0  # steps done (for the progress bar)
    total: int = 0
    history_changed: bool = False
    note: str | None = None  # also shown as an info toast
    download: Path | None = None  # a file the job made to download (a span's ZIP of monitor files)
    warning: str | None = None  # a refusal or failure, also shown as a warning toast
    stopped: bool = False  # the job was stopped: nothing was saved


class Jobs:
    """Running and queued jobs per browser session (or API client), so that Stop reaches both.

    A job is *admitted* when it is accepted into the queue (the event's validator runs then, with the
    request object the job will later run with) and *started* when the model worker takes it. Stop sets
    the running job's flag (it halts after its current step) and marks every admitted job of the session
    as cancelled: when one of those reaches the worker it returns at once, computing and saving nothing.
    """

    STALE_S = 3600.0  # admitted entries of jobs that never started (cancelled by Gradio itself) are dropped
    # Gradio counts a job as queued only once it has appended it, a moment after its admission check: an
    # admission this recent that Gradio's queue does not show yet counts as waiting too, so a burst of joins
    # cannot all pass one by one (an older one that Gradio does not show was dropped by Gradio)
    IN_FLIGHT_S = 5.0

    def __init__(self) -> None:
        self._flags: dict[str, threading.Event] = {}
        self._stopped: dict[str, float] = {}  # session -> when it last asked to stop (time.monotonic)
        self._queued: dict[int, tuple[str, float, object]] = {}  # id(token) -> (session, admitted at, token)
        self._work: dict[int, tuple[float, int]] = {}  # id(token) -> admitted (megapixel-steps, steps), for waits
        self._cancelled: set[int] = set()
        self._lock = threading.Lock()

    def admit(
        self,
        key: str,
        token: object,
        queued: Collection[object] = (),
        limit: int | None = None,
        work: tuple[float, int] = (0.0, 0),
    ) -> bool:
        """A job of session `key` asks to enter the queue, which holds the jobs whose tokens are `queued`:
        False when that queue, with the admissions on their way into it, holds `limit` jobs; else it is
        registered and `token` identifies it until it starts. Check and registration are one step under the
        lock, so that a burst of simultaneous joins is counted one by one."""
        now = time.monotonic()
        visible = {id(q) for q in queued}
        with self._lock:
            for ident, (_, t, _) in list(self._queued.items()):
                if now - t > self.STALE_S:
                    del self._queued[ident]
                    self._cancelled.discard(ident)
                    self._work.pop(ident, None)
            on_the_way = [i for i, (_, t, _) in self._queued.items() if i not in visible and now - t < self.IN_FLIGHT_S]
            if limit is not None and len(visible) + len(on_the_way) >= limit:
                return False
            self._queued[id(token)] = (key, now, token)
            self._work[id(token)] = work
            return True

    def start(self, key: str, token: object | None = None, arrived: float | None = None) -> threading.Event | None:
        """The job reached the worker: its stop flag, or None if it was cancelled while it waited, or if it
        arrived (its request reached the server, `arrived` in time.monotonic) before its session's last
        Stop: a Stop sent while the job's pictures were still being decoded reaches it too."""
        with self._lock:
            ident = id(token)
            queued = self._queued.pop(ident, None) if token is not None else None
            self._work.pop(ident, None)
            if queued is not None and ident in self._cancelled:
                self._cancelled.discard(ident)
                return None
            if arrived is not None and arrived <= self._stopped.get(key, float("-inf")):
                return None
            flag = self._flags[key] = threading.Event()
            return flag

    def stop(self, key: str) -> str:
        """Stop this session's running job after its current step and cancel its queued ones, and every job
        it has sent that is still on its way in."""
        with self._lock:
            self._stopped[key] = time.monotonic()
            flag = self._flags.get(key)
            waiting = [ident for ident, (k, _, _) in self._queued.items() if k == key and ident not in self._cancelled]
            self._cancelled.update(waiting)
        if flag is not None:
            flag.set()
        parts = (["Stopping after the current step"] if flag is not None else []) + (
            [f"cancelled {len(waiting)} queued job{'s' if len(waiting) > 1 else ''}"] if waiting else []
        )
        return (" · ".join(parts) + "…") if parts else "Nothing is running (a job still being sent will not start)."

    def waiting(self, key: str) -> list[object]:
        """The tokens of this session's jobs admitted to the queue that have not started (nor been cancelled)."""
        with self._lock:
            return [tok for i, (k, _, tok) in self._queued.items() if k == key and i not in self._cancelled]

    def work(self, token: object) -> tuple[float, int]:
        """The (megapixel-steps, steps) of an admitted job ((0, 0) when unknown)."""
        with self._lock:
            return self._work.get(id(token), (0.0, 0))

    def running(self, key: str) -> bool:
        """Whether this session has a job on the model now."""
        with self._lock:
            return key in self._flags

    def finish(self, key: str, flag: threading.Event) -> None:
        with self._lock:
            if self._flags.get(key) is flag:
                del self._flags[key]


def pick_seed(seed: float | None) -> int:
    """-1 (or empty) -> a random seed; anything else a whole number in 0..2**63-1 (the CLI's rule)."""
    return resolve_seed(-1 if seed is None or seed == "" else number("seed", seed, integer=True))


def fmt_seconds(s: float) -> str:
    return f"{s:.1f} s" if s < 60 else f"{int(s // 60)} min {int(s % 60):02d} s"


def sample_updates(
    steps: Iterator[Step],
    *,
    label: Callable[[int], str],
    stop: threading.Event | None,
    seed: int,
    clock: dict[str, float],
    look: Callable[[Step], Image.Image],
    done_before: int = 0,
    work: Callable[[int], int] = lambda total: total,
) -> Generator[Update, None, Tensor | None]:
    """Stream Updates for one picture and return its final tensor (None when stopped):
    `x = yield from sample_updates(...)`. `look(step)` draws a preview (PatchDM.preview)."""
    last: Step | None = None
    every = 1
    it = iter(steps)
    while True:
        if stop is not None and stop.is_set():
            where = f"step {last.index + 1}/{last.total}" if last else "the start"
            status = f"Stopped at {where} (seed {seed}): the last preview is kept and this picture was not saved."
            yield Update(status, seed=seed, stopped=True)
            return None
        try:
            step = next(it)
        except StopIteration:
            break
        now = time.perf_counter()
        clock.setdefault("first", now)
        if last is None:
            every = max(1, round(step.total / 10))
        last = step
        clock["total"] = step.total
        done = done_before + step.index + 1
        elapsed = now - clock["start"]
        total_work = work(step.total)
        rate = (now - clock["first"]) / (done - 1) if done > 1 else elapsed
        eta = rate * (total_work - done)
        timing = f"{fmt_seconds(elapsed)} elapsed · ETA {fmt_seconds(eta)}"
        status = f"{label(step.total)} · step {step.index + 1}/{step.total} · {timing}"
        show = step.index == 0 or (step.index + 1) % every == 0 or step.index + 1 == step.total
        yield Update(status, preview=look(step) if show else None, seed=seed, index=done, total=total_work)
    if last is None:
        raise RuntimeError("the sampler produced no steps")
    return last.x
