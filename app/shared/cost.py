"""What one job costs before it runs, in megapixel-steps: the canvas's megapixels (on the patch grid) times
the model evaluations it makes (steps, doubled by guidance, times RePaint's resampling, the share of the
ladder a strength runs, the batch). A job over the server's cap is refused before it is queued, so one
request cannot hold the single model worker for hours.

Each tab prices its own job (its `<kind>_cost` action, from the same inputs the action gets); the rules they
share are here. On the 2-core CPU of this project's machines one megapixel-step of the demo model takes ~3 s.
"""

from __future__ import annotations

from typing import Any

from patchdm_core.editing.edits import EDIT_STRENGTH
from patchdm_core.runtime.sizes import round_up

from .imaging import InputError, Limits, number


def over_cap(cost: float, limits: Limits) -> str | None:
    """The refusal for a job costing `cost`, or None when it fits."""
    if cost <= limits.max_job_cost:
        return None
    return (
        f"this job would cost {cost:,.0f} megapixel-steps, over this server's cap of {limits.max_job_cost:,.0f} "
        "(--max-job-cost): use fewer steps, a smaller canvas or a smaller batch"
    )


class JobCost:
    """Cost of each action from the same inputs the action gets (None when the inputs are unusable:
    the action itself then explains what is wrong)."""

    def __init__(self, studio: Any) -> None:
        self.studio = studio

    def __call__(self, kind: str, args: tuple) -> float | None:
        try:
            return getattr(self.studio, f"{kind}_cost")(*args)
        except (InputError, TypeError, ValueError):
            return None


def megapixels(studio: Any, width: int, height: int) -> float:
    """The canvas's megapixels on the patch grid (what the model paints)."""
    p = studio.p
    return round_up(width, p) * round_up(height, p) / 1e6


def evaluations(studio: Any, steps: Any, guidance: Any) -> float:
    """Model evaluations of a run: its steps, doubled by guidance (the model's defaults where missing)."""
    d_steps, d_guidance = studio.defaults()
    steps = d_steps if steps in (None, "") else number("steps", steps, integer=True)
    guidance = d_guidance if guidance in (None, "") else number("guidance", guidance)
    return steps * (1 if guidance == 1 else 2)


def edit_share(rest: tuple, kind: str) -> float:
    """The share of the steps an edit runs at its strength, the 5th input after guidance (seed, sampler,
    grid, eta, strength); the default strength when it is missing or empty."""
    strength = rest[4] if len(rest) > 4 else None
    return EDIT_STRENGTH[kind] if strength is None or strength == "" else number("strength", strength)
