"""Job plumbing shared by every action: Updates to the UI, per-session stop flags, and the loop that
turns sampler Steps into Updates (status with elapsed/ETA every step, a preview every few steps)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from torch import Tensor

from patchdm_core.noise import resolve_seed
from patchdm_core.sampler import Step

from .imaging import InputError, preview


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


class Jobs:
    """Stop flags of running jobs, one per browser session."""

    def __init__(self) -> None:
        self._flags: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, key: str) -> threading.Event:
        with self._lock:
            flag = self._flags[key] = threading.Event()
            return flag

    def stop(self, key: str) -> bool:
        """Ask this session's running job to stop after its current step; False if none runs."""
        with self._lock:
            flag = self._flags.get(key)
        if flag is None:
            return False
        flag.set()
        return True

    def finish(self, key: str, flag: threading.Event) -> None:
        with self._lock:
            if self._flags.get(key) is flag:
                del self._flags[key]


def pick_seed(seed: float | None) -> int:
    """-1 (or empty) -> a random seed; anything else must be a whole number below 2**63."""
    value = -1 if seed is None or seed == "" else seed
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise InputError(f"the seed must be a whole number (-1 = random), got {seed!r}") from None
    if n != value or n >= 2**63:
        raise InputError(f"the seed must be a whole number below 2**63 (-1 = random), got {seed!r}")
    return resolve_seed(n)


def fmt_seconds(s: float) -> str:
    return f"{s:.1f} s" if s < 60 else f"{int(s // 60)} min {int(s % 60):02d} s"


def sample_updates(
    steps: Iterator[Step],
    *,
    label: Callable[[int], str],
    stop: threading.Event | None,
    seed: int,
    clock: dict[str, float],
    done_before: int = 0,
    work: Callable[[int], int] = lambda total: total,
) -> Generator[Update, None, Tensor | None]:
    """Stream Updates for one picture and return its final tensor (None when stopped):
    `x = yield from sample_updates(...)`."""
    last: Step | None = None
    every = 1
    it = iter(steps)
    while True:
        if stop is not None and stop.is_set():
            where = f"step {last.index + 1}/{last.total}" if last else "the start"
            yield Update(f"Stopped at {where}; the last preview is kept and this picture was not saved.", seed=seed)
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
        yield Update(status, preview=preview(step.x0) if show else None, seed=seed, index=done, total=total_work)
    if last is None:
        raise RuntimeError("the sampler produced no steps")
    return last.x
