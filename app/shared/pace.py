"""How long a job takes on this machine, said before it starts: the seconds one megapixel-step costs here
(a network pass over one megapixel of canvas), measured once at start-up on a small canvas and then from
the steps of every finished job, so the estimate follows the machine's real speed (threads, precision,
another process sharing the CPU); and what a job costs besides its steps (its global code, the previews,
saving the PNG), measured from finished jobs too.

A job's cost in megapixel-steps is the one the admission check computes (shared/cost.py); its time is
overhead + cost x pace. Until anything was measured there is no estimate, and the app says so instead of
guessing.
"""

from __future__ import annotations

import threading
import time
from typing import Any

CALIBRATION_PATCHES = (4, 8)  # rows x columns of the start-up measurement's canvas
CALIBRATION_STEPS = 3  # the first step warms the kernels up and is not counted
WEIGHT = 0.5  # how much a finished job moves the pace (an exponential average over jobs)


def fmt_duration(seconds: float) -> str:
    """'8 s', '40 s', '3 min', '1 h 20 min': a rounded duration for an estimate (not a stopwatch)."""
    if seconds < 10:
        return f"{max(1, round(seconds))} s"
    if seconds < 90:
        return f"{round(seconds / 5) * 5} s"
    if seconds < 3600:
        minutes = seconds / 60
        return f"{round(minutes)} min" if minutes >= 10 else f"{round(minutes * 2) / 2:g} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"


class Pace:
    """Seconds per megapixel-step on this machine (None until measured)."""

    def __init__(self, seconds_per_unit: float | None = None, overhead: float = 0.0) -> None:
        self.rate = seconds_per_unit
        self.overhead = overhead  # seconds a job takes besides its steps
        self.source = "given" if seconds_per_unit else "unknown"
        self._lock = threading.Lock()

    def calibrate(self, pipe: Any) -> float:
        """Measure the pace on a small canvas with the model's default settings (a second or two on a CPU);
        returns it. The first step, which pays for warming the kernels up, is not counted."""
        rows, cols = CALIBRATION_PATCHES
        height, width = rows * pipe.p, cols * pipe.p
        settings = pipe.settings(steps=CALIBRATION_STEPS)
        guided = settings["guidance"] != 1
        times = []
        for _ in pipe.generate(height, width, seed=0, **settings):
            times.append(time.perf_counter())
        per_step = (times[-1] - times[0]) / max(1, len(times) - 1)
        with self._lock:
            self.rate = per_step / (height * width / 1e6 * (2 if guided else 1))
            self.source = "measured"
        return self.rate

    def record(self, rate: float, overhead: float) -> None:
        """A finished job's measured seconds per megapixel-step over its steps, and the seconds it took besides
        them: move the estimates towards them."""
        if not rate > 0:
            return
        with self._lock:
            self.rate = rate if self.rate is None else (1 - WEIGHT) * self.rate + WEIGHT * rate
            self.overhead = (1 - WEIGHT) * self.overhead + WEIGHT * max(0.0, overhead)
            self.source = "measured"

    def seconds(self, cost: float | None) -> float | None:
        """The time a job of `cost` megapixel-steps should take here (None: no pace measured yet)."""
        if cost is None or self.rate is None:
            return None
        return self.overhead + cost * self.rate

    def about(self, cost: float | None) -> str:
        """'about 40 s here' for a plan line, or '' when nothing was measured yet."""
        seconds = self.seconds(cost)
        return "" if seconds is None else f"about {fmt_duration(seconds)} here"

    def describe(self) -> str:
        """The console line at start-up."""
        if self.rate is None:
            return "pace: not measured (time estimates start after the first job)"
        return f"pace: {self.rate:.2f} s per megapixel-step ({self.source}), {self.overhead:.1f} s a job besides"
