"""The Upscale tab: enlarge a picture ×2, ×4, to a size or to a screen, with new detail: its layout, its actions
and their input checks, its events, and what a job needs.

PatchDM.upscale (editing/steering.py) resizes by Lanczos, then repaints from the resized picture noised at a
strength. "add detail" (the default) also holds the picture's low band, everything coarser than its own
enlarged pixels, at every step, so its higher strength paints new detail at the new pixel scale without moving
the picture; "hires fix" is the older image-to-image alone, at a low strength. A target of another shape
than the picture (a screen) is reached by cropping the picture's centre to that shape first, never by
stretching it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import gradio as gr

from patchdm_core.editing.steering import UPSCALE_DETAIL_STRENGTH, UPSCALE_STRENGTH
from patchdm_core.sampling.solvers import sampling_params

from ..shared import controls, fit
from ..shared.actions import BaseActions
from ..shared.components import upload_image
from ..shared.cost import Need, levels, passes, steps_run
from ..shared.events import BaseEvents
from ..shared.imaging import InputError, PictureSource, check_canvas, load_picture, number, size_input
from ..shared.jobs import Update, pick_seed
from ..shared.tab import QUICK, Page, TabParts, follow_up, job_endpoint
from ..shared.widgets import PRESETS, result_panel

UPSCALE_FACTORS = ("×2", "×4", "size")
HOWS = {"structure": "add detail (holds the picture)", "img2img": "hires fix (image-to-image)"}
STRENGTHS = {"structure": UPSCALE_DETAIL_STRENGTH, "img2img": UPSCALE_STRENGTH}
SCREENS = {label: size for label, size in PRESETS.items() if "·" in label}  # the screens people own
TARGET = "pick a screen"


def upscale_strength(value: object, how: str) -> float:
    """The strength from the UI, or the core's default for this way of upscaling when empty."""
    return STRENGTHS[how] if value is None or value == "" else number("strength", value)


def cover_crop(img: Any, width: int, height: int) -> tuple[Any, str]:
    """The picture's centre cut to the shape of width x height (a note when anything was cut)."""
    if abs(img.width * height - img.height * width) <= max(width, height):  # the same shape, to a pixel
        return img, ""
    if img.width * height > img.height * width:  # the picture is wider: keep its height
        w = max(1, round(img.height * width / height))
        box = ((img.width - w) // 2, 0, (img.width - w) // 2 + w, img.height)
    else:
        h = max(1, round(img.width * height / width))
        box = (0, (img.height - h) // 2, img.width, (img.height - h) // 2 + h)
    crop = img.crop(box)
    return crop, f"the picture's centre {crop.width}×{crop.height} is enlarged (the shape of {width}×{height})"


class UpscaleActions(BaseActions):
    """Upscale and its plan line, as plain functions and generators of Updates."""

    def upscale(
        self,
        picture: PictureSource,
        factor: str = "×2",
        width: float | None = None,
        height: float | None = None,
        strength: float | None = None,
        steps: float | None = None,
        guidance: float | None = None,
        seed: float = -1,
        sampler: str | None = None,
        grid: str | None = None,
        eta: float | None = None,
        how: str = "structure",
        preset: str | None = None,
        guidance_interval: str | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[Update]:
        """Enlarge a picture ×2, ×4 or to a size (its centre cut to that shape): Lanczos, then repainted at a
        strength, holding the picture's low band ("structure", the default) or not ("img2img")."""
        img, note = load_picture(picture, self.limits, self.p)
        out_w, out_h = self.upscale_size(img.width, img.height, factor, width, height)
        self._check(self.upscale_need(picture, factor, width, height, strength, steps, guidance, seed, sampler, grid,
                                      eta, how, preset, guidance_interval))  # fmt: skip
        gw, gh = check_canvas(out_w, out_h, self.p, self.limits, "upscaled picture")
        strength = upscale_strength(strength, how)
        settings = self._settings(steps, guidance, sampler, grid, eta, preset, guidance_interval)
        s = pick_seed(seed)
        source, crop = cover_crop(img, out_w, out_h)
        note = "; ".join(n for n in (note, crop) if n)
        it = self.pipe.upscale(source, size=(out_h, out_w), strength=strength, how=how, seed=s, **settings)
        params = {
            **sampling_params(settings),
            "Mode": "upscale",
            "Upscale": how,
            "Strength": strength,
            "Seed": s,
            "Size": f"{out_w}x{out_h}",
            "Source": f"{img.width}x{img.height}" + (f" (centre {source.width}x{source.height})" if crop else ""),
        }
        yield from self._edit(it, (gw // self.p) * (gh // self.p), params, "upscale", s, stop, note)

    def upscale_size(
        self, width: int, height: int, factor: str, out_w: float | None, out_h: float | None
    ) -> tuple[int, int]:
        """The output size of an upscale: ×2, ×4, or the given size."""
        if factor in ("×2", "×4"):
            k = 2 if factor == "×2" else 4
            return width * k, height * k
        if factor != "size":
            raise InputError(f"unknown upscale factor {factor!r}; choose one of {', '.join(UPSCALE_FACTORS)}")
        return size_input(out_w, out_h)

    def upscale_plan(
        self, picture: PictureSource, factor: str, width: Any, height: Any, strength: Any = None, steps: Any = None,
        guidance: Any = None, sampler: Any = None, how: str = "structure", preset: Any = None, interval: Any = None,
    ) -> str:  # fmt: skip
        """'1024×512 → 2048×1024 (512 patches × 7 of 12 steps) · about 1 min here' before running."""
        if picture is None:
            return "Upload a picture (or send one here), then pick ×2, ×4, a size or a screen."
        try:
            img, _ = load_picture(picture, self.limits, self.p)
            out_w, out_h = self.upscale_size(img.width, img.height, factor, width, height)
            need = self.upscale_need(picture, factor, width, height, strength, steps, guidance, -1, sampler,
                                     how=how, preset=preset, guidance_interval=interval)  # fmt: skip
            settings = self._settings(steps, guidance, sampler, None, None, preset, interval)
            runs = steps_run(settings, upscale_strength(strength, how))
        except InputError as exc:
            return f"⚠ {exc}"
        gw, gh = -(-out_w // self.p), -(-out_h // self.p)
        _, crop = cover_crop(img, out_w, out_h)
        text = f"{img.width}×{img.height} → {out_w}×{out_h} ({gw * gh} patches × {runs})"
        return fit.plan(self, need, text + (f" · {crop}" if crop else ""))

    def upscale_need(
        self, picture, factor="×2", width=None, height=None, strength=None, steps=None, guidance=None, seed=-1,
        sampler=None, grid=None, eta=None, how="structure", preset=None, guidance_interval=None,
    ) -> Need:  # fmt: skip
        """What an Upscale job asks (the enlarged canvas at its strength), from its inputs."""
        if how not in HOWS:
            raise InputError(f"how must be one of {', '.join(HOWS)}, got {how!r}")
        img, _ = load_picture(picture, self.limits, self.p)
        w, h = self.upscale_size(img.width, img.height, factor, width, height)
        settings = self._settings(steps, guidance, sampler, grid, eta, preset, guidance_interval)
        share = upscale_strength(strength, how)
        unit, steps = passes(self, settings, share), levels(settings, share)
        return Need(w, h, unit, what="upscaled picture", guided=float(settings["guidance"]) != 1, steps=steps)


class UpscaleEvents(BaseEvents):
    """Upscale's events with the signatures Gradio inspects."""

    def upscale(
        self,
        picture: Any,
        factor: str,
        width: float | None,
        height: float | None,
        strength: float,
        steps: float,
        guidance: float,
        seed: float,
        sampler: str | None,
        grid: str | None,
        eta: float | None,
        how: str,
        preset: str | None,
        guidance_interval: str | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[tuple]:
        """Enlarge a picture with new detail."""
        args = (picture, factor, width, height, strength, steps, guidance, seed, sampler, grid, eta, how, preset)
        args += (guidance_interval,)
        yield from self._job(request, progress, lambda flag: self.studio.upscale(*args, stop=flag), kind="upscale")

    def upscale_plan(self, picture, factor, width, height, strength, steps, guidance, sampler, how, preset, interval):
        """The plan line: the picture's size, the output's, the patches, the time (no model involved)."""
        return self.studio.upscale_plan(picture, factor, width, height, strength, steps, guidance, sampler, how,
                                        preset, interval)  # fmt: skip

    def upscale_how(self, how: str) -> Any:
        """The strength slider at the default of the chosen way."""
        return STRENGTHS.get(how, gr.skip())

    def upscale_screen(self, label: str) -> tuple[Any, Any, Any]:
        """A screen picked as the target: its size, and the factor "size"."""
        if label not in SCREENS:
            return gr.skip(), gr.skip(), gr.skip()
        w, h = SCREENS[label]
        return "size", w, h


def settings_of(params: dict[str, str]) -> dict[str, Any]:
    """A past upscale's parameters as this tab's settings (History's "Use these settings")."""
    out: dict[str, Any] = {"up-how": params.get("Upscale", "img2img")}  # older pictures were the hires fix
    try:
        out["up-strength"] = float(params["Strength"])
    except (KeyError, ValueError):
        pass
    if (size := params.get("Size", "")).count("x") == 1:
        w, h = size.split("x")
        out |= {"up-factor": "size", "up-width": int(w), "up-height": int(h)}
    return out | controls.settings_of(params, "up")


def tab(page: Page) -> TabParts:
    """Build the tab (inside gr.Tabs) and wire its plan line; the job's endpoint is registered by the page."""
    studio, ev = page.studio, page.ev
    with gr.Tab("Upscale", id="upscale"):
        with gr.Row():
            with gr.Column(scale=2):
                up_picture = upload_image(
                    sources=["upload", "clipboard"], label="Picture", height=260, elem_id="up-picture"
                )
                up_factor = gr.Radio(list(UPSCALE_FACTORS), value="×2", label="Enlarge", elem_id="up-factor")
                up_screen = gr.Dropdown(
                    [TARGET, *SCREENS], value=TARGET, label="To a screen", elem_id="up-screen",
                    info="its size (the picture's centre is cut to the screen's shape, never stretched)",
                )  # fmt: skip
                with gr.Row():
                    up_width = gr.Number(
                        2048, precision=0, minimum=16, maximum=65536, label="Width (size)", elem_id="up-width"
                    )
                    up_height = gr.Number(
                        1024, precision=0, minimum=16, maximum=65536, label="Height (size)", elem_id="up-height"
                    )
                up_plan = gr.Markdown(elem_id="up-plan")
                up_how = gr.Radio([(v, k) for k, v in HOWS.items()], value="structure", label="How", elem_id="up-how")
                up_strength = gr.Slider(
                    0, 1, value=UPSCALE_DETAIL_STRENGTH, step=0.05, label="Strength", elem_id="up-strength",
                    info="how much new detail: add detail keeps the picture up to 0.7; hires fix from 0.3 to 0.5; "
                    "0 is a plain Lanczos resize",
                )  # fmt: skip
                c = controls.sampling_controls(studio, "up")
                with gr.Accordion("Advanced", open=False):
                    controls.solver_controls(studio, "up", c)
            with gr.Column(scale=3):
                panel = result_panel("up", "Upscale")
    up_screen.input(ev.upscale_screen, up_screen, [up_factor, up_width, up_height], **QUICK)
    up_how.input(ev.upscale_how, up_how, up_strength, **QUICK)
    plan_in = [up_picture, up_factor, up_width, up_height, up_strength, c.steps, c.guidance, c.sampler, up_how]
    plan_in += [c.preset, c.interval]
    changes = [up_picture.change, up_factor.change, up_width.change, up_height.change, up_strength.change]
    changes += [c.steps.change, c.guidance.change, c.sampler.change, up_how.change, c.interval.change]
    gr.on(changes, ev.upscale_plan, plan_in, up_plan, **QUICK, show_progress="hidden", trigger_mode="always_last")
    inputs = [up_picture, up_factor, up_width, up_height, up_strength, *controls.inputs(c), up_how, c.preset]
    inputs += [c.interval]
    job = job_endpoint(page, "upscale", inputs, panel)
    follow_up(page, "upscale", panel)
    keep = {"up-factor": up_factor, "up-width": up_width, "up-height": up_height, "up-how": up_how}
    keep |= {"up-strength": up_strength, "up-screen": up_screen} | controls.keep(c, "up")
    return TabParts(api={"upscale": job}, panel=panel, source=panel.result, target=up_picture, keep=keep,
                    settings=settings_of)  # fmt: skip
