"""What one job costs before it runs, in megapixel-steps: the canvas's megapixels (on the patch grid) times
the model evaluations it makes (steps, doubled by guidance, times RePaint's resampling, the share of the
ladder a strength runs, the batch). A job over the server's cap is refused before it is queued, so one
request cannot hold the single model worker for hours.

On the 2-core CPU of this project's machines one megapixel-step of the demo model takes ~3 s.
"""

from __future__ import annotations

from typing import Any

from patchdm_core.editing.edits import EDIT_STRENGTH
from patchdm_core.editing.regions import evals_of, repaint_path
from patchdm_core.runtime.sizes import round_up

from .imaging import InputError, Limits, editor_parts, load_picture, number, size_input
from .span import monitors_of
from .steering import compose_sketch

MODE_FACTOR = {"feature": 1.0, "naive": 1.0, "pixel": 1.0, "sliding": 3.4}  # sliding: stride p/2 windows


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

    def _mp(self, width: int, height: int) -> float:
        p = self.studio.p
        return round_up(width, p) * round_up(height, p) / 1e6

    def _evals(self, steps: Any, guidance: Any) -> float:
        d_steps, d_guidance = self.studio.defaults()
        steps = d_steps if steps in (None, "") else number("steps", steps, integer=True)
        guidance = d_guidance if guidance in (None, "") else number("guidance", guidance)
        return steps * (1 if guidance == 1 else 2)

    def __call__(self, kind: str, args: tuple) -> float | None:
        try:
            return getattr(self, kind)(*args)
        except (InputError, TypeError, ValueError):
            return None

    def generate(self, width, height, steps, guidance, seed, batch, mode, *rest) -> float:
        w, h = size_input(width, height)
        batch = 1 if batch in (None, "") else number("batch", batch, integer=True)
        return self._mp(w, h) * self._evals(steps, guidance) * batch * MODE_FACTOR.get(mode, 1.0)

    def inpaint(self, editor, blur, method, only_masked, margin, steps, guidance, *rest) -> float:
        background, _ = editor_parts(editor)
        img, _ = load_picture(background, self.studio.limits, self.studio.p)
        evals = self._evals(steps, guidance) * _share(rest, "inpaint")
        if method == "harmonized":  # RePaint with the app's jump 5, 5 resamples
            n = max(1, int(evals // (1 if guidance == 1 else 2)))
            evals *= evals_of(repaint_path(list(range(n, 0, -1)), 5, 5)) / n
        return self._mp(img.width, img.height) * evals

    def outpaint(self, picture, top, right, bottom, left, feather, steps, guidance, *rest) -> float:
        img, _ = load_picture(picture, self.studio.limits, self.studio.p)
        pad = self.studio.outpaint_pad(top, right, bottom, left)
        evals = self._evals(steps, guidance) * _share(rest, "outpaint")
        return self._mp(img.width + pad[1] + pad[3], img.height + pad[0] + pad[2]) * evals

    def sketch(self, editor, width, height, strength, steps, guidance, *rest) -> float:
        w, h = size_input(width, height)
        _, transparent = compose_sketch(editor, self.studio.limits, self.studio.p)
        share = 1.0 if transparent else number("strength", strength)
        return self._mp(w, h) * self._evals(steps, guidance) * share

    def upscale(self, picture, factor, width, height, strength, steps, guidance, *rest) -> float:
        img, _ = load_picture(picture, self.studio.limits, self.studio.p)
        w, h = self.studio.upscale_size(img.width, img.height, factor, width, height)
        return self._mp(w, h) * self._evals(steps, guidance) * number("strength", strength)

    def span(self, monitors, bezel, steps, guidance, *rest) -> float:
        (width, height), *_ = monitors_of(monitors, bezel)
        return self._mp(width, height) * self._evals(steps, guidance)


def _share(rest: tuple, kind: str) -> float:
    """The share of the steps an edit runs at its strength, the 5th input after guidance (seed, sampler,
    grid, eta, strength); the default strength when it is missing or empty."""
    strength = rest[4] if len(rest) > 4 else None
    return EDIT_STRENGTH[kind] if strength is None or strength == "" else number("strength", strength)
