"""What every tab's actions share: the model, its limits and the history, checked sampling settings, and the
loop of an edit. The actions are plain generators of `Update`s (no gradio here; tests call them directly).

Every job checks its inputs before any work (an `InputError` means nothing was computed or
written), streams a status line every step and a downscaled preview every few steps, checks its
stop flag every step, and saves each finished picture to the history with its parameters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from torch import Tensor

from patchdm_core.composition.sources import DesignedLayouts, LayoutBank, composition_name
from patchdm_core.editing.edits import EDIT_STRENGTH
from patchdm_core.editing.img2img import denoise_steps
from patchdm_core.runtime.images import to_pil
from patchdm_core.sampling.positions import GRIDS
from patchdm_core.sampling.presets import PRESETS
from patchdm_core.sampling.solvers import SAMPLERS, Step

from . import fit
from .controls import CUSTOM, parse_interval
from .cost import Need
from .history import History
from .imaging import InputError, Limits, number
from .jobs import Update, fmt_seconds, sample_updates
from .pace import Pace


class BaseActions:
    """The model, its limits and the history; each tab adds its actions to it (tabs/), and app.studio.Studio
    is all of them together."""

    def __init__(
        self,
        pipe: Any,
        history: History,
        limits: Limits | None = None,
        banner: str = "",
        layouts: Any = None,
        pace: Pace | None = None,
    ) -> None:
        self.pipe = pipe
        self.history = history
        self.limits = limits or Limits()
        self.banner = banner
        self.pace = pace or Pace()  # main.py measures it at start-up; finished jobs refine it
        # Composition's layout sources by name ("designed", "training-layouts": the bank, "layout-model": the
        # layout model); a bare LayoutBank is the bank alone; designed layouts need no file, so they are always here
        found = {"training-layouts": layouts} if isinstance(layouts, LayoutBank) else dict(layouts or {})
        self.layouts = {"designed": DesignedLayouts()} | {composition_name(k): v for k, v in found.items()}

    @property
    def p(self) -> int:
        return self.pipe.p

    def defaults(self) -> tuple[int, float]:
        """The model's default (steps, guidance)."""
        return self.pipe.cfg.sampling.steps, self.pipe.cfg.sampling.guidance

    def solver_defaults(self) -> tuple[str, str, float]:
        """The model's default (sampler, grid rule, eta)."""
        d = self.pipe.cfg.sampling
        return d.sampler, d.grid, d.eta

    def _settings(
        self,
        steps: float | None,
        guidance: float | None,
        sampler: str | None = None,
        grid: str | None = None,
        eta: float | None = None,
        preset: str | None = None,
        interval: object = None,
    ) -> dict[str, object]:
        """Checked sampling settings: what is given, else the preset's (sampling/presets.py), else the model's
        defaults (PatchDM.settings), as the command line's flags beside --preset."""
        if preset not in (None, "", CUSTOM) and preset not in PRESETS:
            raise InputError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)} or custom")
        base = dict(PRESETS.get(str(preset), {}))
        given = lambda v: v is not None and v != ""  # noqa: E731
        if given(steps):
            base["steps"] = number("steps", steps, integer=True)
        if given(guidance):
            base["guidance"] = number("guidance", guidance)
        if sampler and sampler not in SAMPLERS:
            raise InputError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
        if grid and grid not in GRIDS:
            raise InputError(f"unknown grid rule {grid!r}; choose one of {', '.join(GRIDS)}")
        base |= {k: v for k, v in (("sampler", sampler), ("grid", grid)) if v}
        if given(eta):
            base["eta"] = number("eta", eta)
        if (window := parse_interval(interval)) is not None:
            base["guidance_interval"] = window
        return self.pipe.settings(**base)

    def _check(self, need: Need) -> None:
        """Refuse a job that does not fit this server and machine (fit.py), before any work."""
        fit.check(self, need)

    def _finish(self, x: Tensor, params: dict[str, object], kind: str, seed: int) -> Path:
        """Save a finished canvas to the history with its parameters."""
        return self.history.save(to_pil(x), self.pipe.params(**params), kind, seed)

    def _edit(
        self,
        it: Iterator[Step],
        cells: int,
        params: dict[str, object],
        kind: str,
        seed: int,
        stop: threading.Event | None,
        note: str,
    ) -> Iterator[Update]:
        """Stream an edit's steps, then save its picture (Inpaint, Outpaint, Sketch and Upscale end here)."""
        clock = {"start": time.perf_counter()}
        steps = int(params["Steps"])
        runs = lambda total: (  # noqa: E731 - a strength runs part of the ladder, RePaint resamples it
            f"{total} steps"
            if total == steps
            else f"{total} of {steps} steps"
            if total < steps
            else f"{steps} steps ({total} with resampling)"
        )
        label = lambda total: f"{kind} · {cells} patches × {runs(total)} · seed {seed}"  # noqa: E731
        if note:
            yield Update(f"{kind}: {note}", seed=seed, note=note)
        x = yield from sample_updates(it, label=label, stop=stop, seed=seed, clock=clock, look=self.pipe.preview)
        if x is None:
            return
        params["Size"] = f"{x.shape[-1]}x{x.shape[-2]}"
        path = self._finish(x, params, kind, seed)
        took = fmt_seconds(time.perf_counter() - clock["start"])
        done = f"Done: {label(int(clock['total']))}, {params['Size']}, in {took}"
        n = int(clock["total"])
        yield Update(done, final=path, seed=seed, index=n, total=n, history_changed=True)


def edit_strength(value: object, steps: int, kind: str) -> float:
    """An edit's strength from the UI (the default when empty), refused when it repaints nothing."""
    strength = EDIT_STRENGTH[kind] if value is None or value == "" else number("strength", value)
    if denoise_steps(int(steps), strength) == 0:
        raise InputError(f"strength {strength} repaints nothing in {steps} steps: raise the strength or the steps")
    return strength


def img2img_strength(value: float | None) -> float:
    """An image-to-image strength (Sketch, Upscale) from the UI; 0.6 when empty."""
    return number("strength", 0.6 if value is None or value == "" else value)
