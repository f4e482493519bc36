"""How long a job takes on this machine, said before it starts.

A step costs a fixed time (launching the network over patch bands, the solver, a preview) plus a time per
megapixel-step (a network pass over one megapixel of canvas); a job costs its steps plus what it does besides
them (its global code, saving the PNG). Both are measured: at start-up on two small canvases (so that the
fixed part and the part that grows with the canvas can be told apart), and then from the steps of every
finished job, the newest ones counting, so the estimate follows the machine's real speed (threads, precision,
another process sharing the CPU).

A job's work is the one the admission check computes (shared/cost.py: its megapixel-steps and its steps).
Until anything was measured there is no estimate, and the app says so instead of guessing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from patchdm_core.sampling.guidance import guided_passes

CALIBRATION = ((2, 4), (4, 8))  # rows x columns of patches of the two start-up canvases
CALIBRATION_STEPS = 3  # the first step warms the kernels up and is not counted
POINTS = 8  # the newest (megapixel-steps a step, seconds a step) measurements the estimate is fitted to
WEIGHT = 0.5  # how much a finished job moves the overhead estimate


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
    """Seconds a step takes here: `fixed` + `rate` x its megapixel-steps (None until measured)."""

    def __init__(self, seconds_per_unit: float | None = None, overhead: float = 0.0) -> None:
        self.points: deque[tuple[float, float]] = deque(maxlen=POINTS)
        self.fixed, self._rate = 0.0, None
        self.overhead = overhead  # seconds a job takes besides its steps
        self.source = "unknown"
        self._lock = threading.Lock()
        if seconds_per_unit:
            self.rate = seconds_per_unit

    @property
    def rate(self) -> float | None:
        """Seconds per megapixel-step."""
        return self._rate

    @rate.setter
    def rate(self, value: float) -> None:
        """Set the pace by hand (no fixed part): a server that knows its speed, tests."""
        with self._lock:
            self.points.clear()
            self.fixed, self._rate, self.source = 0.0, float(value), "given"

    def calibrate(self, pipe: Any) -> float:
        """Measure the pace on two small canvases with the model's default settings (a few seconds on a CPU);
        returns the seconds per megapixel-step."""
        settings = pipe.settings(steps=CALIBRATION_STEPS)
        # the steps timed (all but the first) at their own passes: with a guidance interval the low levels
        # make one pass, not two (counting two there halved the rate and every estimate with it)
        timed = pipe.painter.levels(settings)[1:]
        passes = guided_passes(timed, float(settings["guidance"]), settings.get("guidance_interval")) / len(timed)
        for rows, cols in CALIBRATION:
            height, width = rows * pipe.p, cols * pipe.p
            times = [time.perf_counter() for _ in pipe.generate(height, width, seed=0, **settings)]
            step = (times[-1] - times[0]) / max(1, len(times) - 1)
            self._add(height * width / 1e6 * passes, step)
        self.source = "measured"
        return self._rate or 0.0

    def record(self, per_step: float, step_seconds: float, overhead: float) -> None:
        """A finished job: its steps of `per_step` megapixel-steps each took `step_seconds`, and it took
        `overhead` seconds besides them."""
        if not (per_step > 0 and step_seconds > 0):
            return
        self._add(per_step, step_seconds)
        with self._lock:
            self.overhead = (1 - WEIGHT) * self.overhead + WEIGHT * max(0.0, overhead)
            self.source = "measured"

    def _add(self, x: float, y: float) -> None:
        """One measurement; the line through the newest ones (least squares, neither part negative)."""
        with self._lock:
            self.points.append((x, y))
            n = len(self.points)
            mx, my = sum(p[0] for p in self.points) / n, sum(p[1] for p in self.points) / n
            sxx = sum((p[0] - mx) ** 2 for p in self.points)
            rate = sum((p[0] - mx) * (p[1] - my) for p in self.points) / sxx if sxx > 1e-18 else 0.0
            fixed = my - rate * mx
            if rate <= 0 or fixed < 0:  # one size only, or noise: all of it per megapixel-step
                rate, fixed = sum(p[0] * p[1] for p in self.points) / sum(p[0] ** 2 for p in self.points), 0.0
            self.fixed, self._rate = fixed, rate

    def seconds(self, cost: float | None, steps: int = 0) -> float | None:
        """The time a job of `cost` megapixel-steps in `steps` steps should take here (None: not measured)."""
        if cost is None or self._rate is None:
            return None
        return self.overhead + self.fixed * steps + self._rate * cost

    def about(self, cost: float | None, steps: int = 0) -> str:
        """'about 40 s here' for a plan line, or '' when nothing was measured yet."""
        seconds = self.seconds(cost, steps)
        return "" if seconds is None else f"about {fmt_duration(seconds)} here"

    def describe(self) -> str:
        """The console line at start-up."""
        if self._rate is None:
            return "pace: not measured (time estimates start after the first job)"
        return (
            f"pace: {self._rate:.2f} s per megapixel-step + {self.fixed:.2f} s a step, "
            f"{self.overhead:.1f} s a job besides its steps ({self.source})"
        )
