"""What the app's buttons do, as plain generators of `Update`s (no gradio here; tests call them directly).

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

from PIL import Image
from torch import Tensor

from patchdm_core.editing.edits import EDIT_STRENGTH
from patchdm_core.editing.img2img import denoise_steps
from patchdm_core.editing.layout import COMPOSITIONS, LayoutBank
from patchdm_core.editing.layout import STRENGTH as LAYOUT_STRENGTH
from patchdm_core.runtime.images import from_pil, to_pil
from patchdm_core.sampling.palette import STRENGTH as PALETTE_STRENGTH
from patchdm_core.sampling.positions import GRIDS
from patchdm_core.sampling.solvers import SAMPLERS, Step, sampling_params

from .history import History
from .imaging import (
    GRID,
    InputError,
    Limits,
    PictureSource,
    check_canvas,
    flag,
    keep_mask,
    load_picture,
    mask_cells,
    number,
    outpaint_layout,
    picture_and_mask,
    round_up,
    size_input,
    size_note,
    snap,
)
from .jobs import Jobs, Update, fmt_seconds, pick_seed, sample_updates
from .span import SpanActions
from .steering import SteeringActions

__all__ = ["MODES", "Jobs", "Studio", "Update"]

MODES = ("feature", "naive", "pixel", "sliding")


class Studio(SteeringActions, SpanActions):
    """The model, its limits and the history, with one generator per app action (Sketch and Upscale in
    steering.py, Span in span.py)."""

    def __init__(
        self, pipe: Any, history: History, limits: Limits | None = None, banner: str = "", layouts: Any = None
    ) -> None:
        self.pipe = pipe
        self.history = history
        self.limits = limits or Limits()
        self.banner = banner
        # Composition's layout sources by name ("layouts": the bank, "layout-model": the layout model); a bare
        # LayoutBank is the bank alone; empty when the model ships neither
        self.layouts = {"layouts": layouts} if isinstance(layouts, LayoutBank) else dict(layouts or {})

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
    ) -> dict[str, object]:
        """Checked sampling settings, the model's defaults where a value is missing (PatchDM.settings)."""
        d_steps, d_guidance = self.defaults()
        steps = d_steps if steps is None or steps == "" else number("steps", steps, integer=True)
        guidance = d_guidance if guidance is None or guidance == "" else number("guidance", guidance)
        if sampler and sampler not in SAMPLERS:
            raise InputError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
        if grid and grid not in GRIDS:
            raise InputError(f"unknown grid rule {grid!r}; choose one of {', '.join(GRIDS)}")
        eta = None if eta is None or eta == "" else number("eta", eta)
        return self.pipe.settings(steps=steps, guidance=guidance, sampler=sampler or None, grid=grid or None, eta=eta)

    def plan(self, width: float, height: float, steps: float | None) -> str:
        """'128 patches × 25 steps' (+ the off-grid note) for a canvas; problems come back as text."""
        try:
            width, height = size_input(width, height)
            gw, gh = check_canvas(width, height, self.p, self.limits)
            steps = self.defaults()[0] if steps is None or steps == "" else number("steps", steps, integer=True)
        except InputError as exc:
            return f"⚠ {exc}"
        note = size_note(int(width), int(height), self.p)
        text = f"{(gw // self.p) * (gh // self.p)} patches × {steps} steps"
        return f"{text} · {note}" if note else text

    def _finish(self, x: Tensor, params: dict[str, object], kind: str, seed: int) -> Path:
        return self.history.save(to_pil(x), self.pipe.params(**params), kind, seed)

    # -- generate ---------------------------------------------------------------------------------

    def generate(
        self,
        width: float,
        height: float,
        steps: float | None = None,
        guidance: float | None = None,
        seed: float = -1,
        batch: float = 1,
        mode: str = "feature",
        tileable: bool = False,
        style: PictureSource = None,
        sampler: str | None = None,
        grid: str | None = None,
        eta: float | None = None,
        composition: str | None = "none",
        palette: float | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[Update]:
        """Paint `batch` canvases with seeds seed, seed+1, ...; previews, then each final PNG. Composition
        "layouts" paints each on the seed's layout from the model's layout bank, "layout-model" on one its
        layout model samples (editing/layout.py). `palette`:
        how strongly a style picture's colours steer the canvas (sampling/palette.py; None: the default)."""
        width, height = size_input(width, height)
        batch = 1 if batch is None or batch == "" else number("batch", batch, integer=True)
        tileable = flag("tileable", tileable)
        gw, gh = check_canvas(width, height, self.p, self.limits)
        settings = self._settings(steps, guidance, sampler, grid, eta)
        steps = int(settings["steps"])
        if mode not in MODES:
            raise InputError(f"unknown sampler mode {mode!r}; choose one of {', '.join(MODES)}")
        if tileable and mode != "feature":
            raise InputError("tileable output needs the feature sampler (Advanced → Sampler: feature)")
        palette = PALETTE_STRENGTH if palette is None or palette == "" else palette
        palette = number("style colours", palette, lo=0, hi=1)
        composition = composition or "none"
        if composition not in COMPOSITIONS:
            raise InputError(f"composition must be one of {', '.join(COMPOSITIONS)}, got {composition!r}")
        if composition != "none" and composition not in self.layouts:
            beside = "WEIGHTS-layouts.png" if composition == "layouts" else "WEIGHTS-layout.safetensors"
            raise InputError(f"this model ships no {composition.replace('-', ' ')} ({beside} beside its weights file)")
        tile_grid = self.pipe.grid_size(height, width, True)[::-1] if tileable else None
        notes = [n for n in [size_note(width, height, self.p, tile_grid)] if n]
        z, style_name, reference = None, None, None
        if style is not None:
            picture, note = load_picture(style, self.limits, what="style reference")
            notes += [f"style reference: {note}"] if note else []
            z, reference = self.pipe.encode_style(picture), picture  # its global code and its colours
            style_name = Path(style).name if isinstance(style, (str, Path)) else "reference picture"
        first = pick_seed(seed)
        if composition != "none":  # img2img of the layout runs the last `strength` of the ladder
            steps = denoise_steps(steps, LAYOUT_STRENGTH)
        plan = f"{(gw // self.p) * (gh // self.p)} patches × {steps} steps"
        clock = {"start": time.perf_counter()}
        if notes:
            yield Update(f"{plan} · " + "; ".join(notes), seed=first, note="; ".join(notes))
        for i in range(batch):
            s = first + i
            label = f"{plan} · seed {s}" + (f" · image {i + 1}/{batch}" if batch > 1 else "")
            if composition != "none":
                it = self.pipe.compose(
                    self.layouts[composition], height, width, seed=s, z=z, mode=mode, tileable=tileable, **settings
                )
            else:
                it = self.pipe.generate(
                    height,
                    width,
                    seed=s,
                    z=z,
                    palette=reference,
                    palette_strength=palette,
                    mode=mode,
                    tileable=tileable,
                    **settings,
                )
            x = yield from sample_updates(
                it,
                look=self.pipe.preview,
                label=lambda _, label=label: label,
                stop=stop,
                seed=s,
                clock=clock,
                done_before=i * steps,
                work=lambda t: t * batch,
            )
            if x is None:
                return
            params = {**sampling_params(settings, mode), "Seed": s, "Size": f"{width}x{height}"}
            if tileable:
                params["Tileable"] = "xy"
            if composition != "none":
                params |= {"Composition": composition, "Layout strength": LAYOUT_STRENGTH}
            if style_name:
                params["Style"] = style_name
                if composition == "none":
                    params["Palette strength"] = palette
            if batch > 1:
                params["Batch"] = f"{i + 1}/{batch}"
            path = self._finish(x, params, "generate", s)
            took = fmt_seconds(time.perf_counter() - clock["start"])
            yield Update(
                f"Done: {width}×{height}, seed {s}, {plan} in {took}"
                + (f" (image {i + 1}/{batch})" if batch > 1 else ""),
                final=path,
                seed=s,
                index=(i + 1) * steps,
                total=batch * steps,
                history_changed=True,
            )

    # -- inpaint ------------------------------------------------------------------------------------

    def inpaint(
        self,
        editor: Any,
        blur: float = 8,
        method: str = "fast",
        only_masked: bool = False,
        margin: float = 64,
        steps: float | None = None,
        guidance: float | None = None,
        seed: float = -1,
        sampler: str | None = None,
        grid: str | None = None,
        eta: float | None = None,
        strength: float | None = None,
        content: str = "fill",
        stop: threading.Event | None = None,
    ) -> Iterator[Update]:
        """Repaint the painted area of the editor's picture (strength None: the model's edit default).
        strength and content come last so that API clients written before them keep working."""
        if method not in ("fast", "harmonized"):
            raise InputError(f"method must be 'fast' or 'harmonized', got {method!r}")
        if content not in ("fill", "original"):
            raise InputError(f"start from must be 'fill' or 'original', got {content!r}")
        picture, painted, note = picture_and_mask(editor, self.limits, self.p)
        settings = self._settings(steps, guidance, sampler, grid, eta)
        blur, margin = number("blur", blur or 0, integer=True), number("margin", margin or 0, integer=True)
        strength = edit_strength(strength, settings["steps"], "inpaint")
        only_masked = flag("only masked", only_masked)
        s = pick_seed(seed)
        cells = (
            mask_cells(painted, self.p, margin + blur)
            if only_masked
            else (round_up(picture.width, self.p) // self.p) * (round_up(picture.height, self.p) // self.p)
        )
        it = self.pipe.inpaint(
            from_pil(picture),
            keep_mask(painted),
            seed=s,
            method=method,
            blur=blur,
            only_masked=bool(only_masked),
            margin=margin,
            strength=strength,
            content=content,
            **settings,
        )
        params: dict[str, object] = {
            **sampling_params(settings),
            "Mode": "inpaint",
            "Seed": s,
            "Size": f"{picture.width}x{picture.height}",
            "Inpaint": method,
            "Mask blur": blur,
            "Only masked": bool(only_masked),
            "Strength": strength,
            "Content": content,
        }
        if only_masked:
            params["Margin"] = margin
        yield from self._edit(it, cells, params, "inpaint", s, stop, note)

    # -- outpaint ------------------------------------------------------------------------------------

    def outpaint_pad(self, top: float, right: float, bottom: float, left: float) -> tuple[int, int, int, int]:
        """Extensions snapped to the 64-px grid (InputError when all are zero)."""
        pad = tuple(snap(number("extend", v or 0)) for v in (top, right, bottom, left))
        if not any(pad):
            raise InputError(f"nothing to extend: give at least one side {GRID} px or more")
        return pad  # type: ignore[return-value]

    def outpaint_layout(
        self, picture: PictureSource, top: float, right: float, bottom: float, left: float, feather: float = 32
    ) -> tuple[Image.Image, str]:
        """A sketch of the grown canvas and its size, before running."""
        img, note = load_picture(picture, self.limits, self.p)
        pad = self.outpaint_pad(top, right, bottom, left)
        w, h = img.width + pad[1] + pad[3], img.height + pad[0] + pad[2]
        gw, gh = check_canvas(w, h, self.p, self.limits, "grown canvas")
        text = f"{img.width}×{img.height} → {gw}×{gh} ({(gw // self.p) * (gh // self.p)} patches)"
        feather = number("feather", feather or 0, integer=True)
        return outpaint_layout(img, pad, feather), text + (f" · {note}" if note else "")

    def outpaint(
        self,
        picture: PictureSource,
        top: float = 0,
        right: float = 256,
        bottom: float = 0,
        left: float = 0,
        feather: float = 32,
        steps: float | None = None,
        guidance: float | None = None,
        seed: float = -1,
        sampler: str | None = None,
        grid: str | None = None,
        eta: float | None = None,
        strength: float | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[Update]:
        """Grow the picture by the given pixels per side and paint the new area."""
        img, note = load_picture(picture, self.limits, self.p)
        pad = self.outpaint_pad(top, right, bottom, left)
        gw, gh = check_canvas(
            img.width + pad[1] + pad[3], img.height + pad[0] + pad[2], self.p, self.limits, "grown canvas"
        )
        settings = self._settings(steps, guidance, sampler, grid, eta)
        feather = number("feather", feather or 0, integer=True)
        s = pick_seed(seed)
        asked = tuple(round(float(v or 0)) for v in (top, right, bottom, left))
        if asked != pad:
            note = "; ".join(
                n for n in [note, f"extensions snapped to the {GRID}-px grid: {'/'.join(map(str, pad))}"] if n
            )
        strength = edit_strength(strength, settings["steps"], "outpaint")
        it = self.pipe.outpaint(from_pil(img), pad, seed=s, feather_px=feather, strength=strength, **settings)
        params: dict[str, object] = {
            **sampling_params(settings),
            "Mode": "outpaint",
            "Seed": s,
            "Size": f"{gw}x{gh}",
            "Extend": ",".join(map(str, pad)),
            "Feather": feather,
            "Strength": strength,
        }
        yield from self._edit(it, (gw // self.p) * (gh // self.p), params, "outpaint", s, stop, note)

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
        clock = {"start": time.perf_counter()}
        label = lambda total: f"{kind} · {cells} patches × {total} steps · seed {seed}"
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
