"""What one job asks of the machine before it runs (`Need`): its canvas, and its work in megapixel-steps (the
canvas's megapixels on the patch grid times the network passes it makes: one per step, two where guidance
runs (its interval), the share of the ladder a strength runs, RePaint's resampling, the batch). A job over
the server's cap is refused before it is queued, so one request cannot hold the single model worker for
hours; the same figure times the measured pace (pace.py) is the time the plan lines show.

Each tab describes its own job (its `<kind>_need` action, from the same inputs the action gets); the rules
they share are here, and fit.py says whether a need fits this server and this machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patchdm_core.editing.img2img import denoise_steps
from patchdm_core.runtime.sizes import round_up
from patchdm_core.sampling.guidance import guided_passes
from patchdm_core.sampling.solvers import ladder

from .imaging import InputError


@dataclass(frozen=True)
class Need:
    """A job's canvas (as asked, before the patch grid) and its work per megapixel of that canvas."""

    width: int
    height: int
    unit: float  # megapixel-steps per megapixel of canvas: passes x batch x the mode's factor x share
    what: str = "canvas"
    batch: int = 1
    guided: bool = True
    resizable: bool = True  # the user picks this size: a refusal names the largest that fits
    steps: int = 0  # network evaluations of the whole job (steps run x batch): each has a fixed cost too

    def megapixels(self, p: int) -> float:
        """The canvas's megapixels on the patch grid (what the model paints)."""
        return round_up(self.width, p) * round_up(self.height, p) / 1e6

    def cost(self, p: int) -> float:
        """Megapixel-steps of the whole job."""
        return self.megapixels(p) * self.unit

    def work(self, p: int) -> tuple[float, int]:
        """(megapixel-steps, steps): what the pace turns into a time."""
        return self.cost(p), self.steps

    def about(self, studio: Any, width: int | None = None, height: int | None = None) -> str:
        """'about 40 s here' for this job (or the same job at width x height), '' before any pace."""
        if width is None or height is None:
            return studio.pace.about(self.cost(studio.p), self.steps)
        return studio.pace.about(round_up(width, studio.p) * round_up(height, studio.p) / 1e6 * self.unit, self.steps)


def over_cap(cost: float, cap: float) -> str | None:
    """The clause for a job costing `cost` over the cap, or None when it fits."""
    if cost <= cap:
        return None
    return f"{cost:,.0f} megapixel-steps, over this server's cap of {cap:,.0f} (--max-job-cost)"


class JobCost:
    """The need of each action from the same inputs the action gets (None when the inputs are unusable: the
    action itself then explains what is wrong)."""

    def __init__(self, studio: Any) -> None:
        self.studio = studio

    def __call__(self, kind: str, args: tuple) -> Need | None:
        try:
            return getattr(self.studio, f"{kind}_need")(*args)
        except (InputError, TypeError, ValueError):
            return None


def passes(studio: Any, settings: dict, strength: float | None = None) -> int:
    """Network passes over the canvas a run of `settings` makes: the levels of its solver's ladder (the last
    ones a strength runs), two each where guidance runs."""
    levels = ladder(str(settings["sampler"]), studio.pipe.schedule, int(settings["steps"]))
    if strength is not None:
        levels = levels[len(levels) - denoise_steps(int(settings["steps"]), strength) :]
    interval = settings.get("guidance_interval")
    return guided_passes(levels, float(settings["guidance"]), tuple(interval) if interval else None)


def levels(settings: dict, strength: float | None = None) -> int:
    """The steps a run of `settings` makes (the share of the ladder a strength runs)."""
    steps = int(settings["steps"])
    return steps if strength is None else denoise_steps(steps, strength)


def steps_run(settings: dict, strength: float | None = None) -> str:
    """'12 steps', or '7 of 12 steps' when a strength runs only the last part of the ladder."""
    steps = int(settings["steps"])
    if strength is None or denoise_steps(steps, strength) == steps:
        return f"{steps} steps"
    return f"{denoise_steps(steps, strength)} of {steps} steps"
