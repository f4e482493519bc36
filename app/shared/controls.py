"""The sampling controls every painting tab has: a preset (fast, quality: patchdm_core.sampling.presets), steps,
guidance and seed, and under Advanced the sampler, the patch-grid rule, eta and the guidance interval.

A preset fills the controls it names; the controls are what a job runs with, so whatever the user sets
after picking a preset wins (and the preset then reads "custom"), as flags beside --preset win on the
command line. An API client that leaves a control empty gets the preset's value, else the model's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from patchdm_core.sampling.guidance import FULL_INTERVAL
from patchdm_core.sampling.presets import PRESETS
from patchdm_core.sampling.solvers import LABELS

from .imaging import InputError, number
from .tab import QUICK

CUSTOM = "custom"
PRESET_INFO = {
    "fast": "guidance 1.75 at the noisy half of the ladder only (timesteps 450-999): 17 network passes",
    "quality": "v1.4's settings: guidance 1.5 at every step, 24 passes (1.4x the work)",
}


@dataclass
class Sampling:
    """One tab's sampling controls."""

    preset: gr.Radio
    steps: gr.Slider
    guidance: gr.Slider
    seed: gr.Number
    sampler: gr.Radio | None = None
    grid: gr.Radio | None = None
    eta: gr.Slider | None = None
    interval: gr.Textbox | None = None


def interval_text(interval: tuple[int, int] | list[int] | None) -> str:
    lo, hi = interval or FULL_INTERVAL
    return f"{lo}-{hi}"


def parse_interval(value: object) -> tuple[int, int] | None:
    """'350-750' (or [350, 750] from an API client) -> (350, 750); '' / None -> None (the model's)."""
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)) and len(value) == 2:
        lo, hi = value
    else:
        lo, sep, hi = str(value).replace("–", "-").partition("-")
        if not sep:
            raise InputError(f"guidance interval must be LO-HI timesteps such as 350-750, got {value!r}")
    lo, hi = (number("guidance interval", v, integer=True, lo=0, hi=999) for v in (lo, hi))
    if lo > hi:
        raise InputError(f"guidance interval must run from low to high, got {lo}-{hi}")
    return lo, hi


def matching_preset(studio: Any) -> str:
    """The preset the model's own defaults are, or "custom"."""
    d = studio.pipe.cfg.sampling
    own = {"sampler": d.sampler, "steps": d.steps, "guidance": d.guidance, "interval": tuple(d.guidance_interval)}
    for name, p in PRESETS.items():
        theirs = {"sampler": p["sampler"], "steps": p["steps"], "guidance": p["guidance"]}
        if own == theirs | {"interval": tuple(p["guidance_interval"])}:
            return name
    return CUSTOM


def preset_values(name: str) -> tuple[Any, Any, Any, Any]:
    """(steps, guidance, sampler, interval text) of a preset, or no change for "custom"."""
    if name not in PRESETS:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    p = PRESETS[name]
    return p["steps"], p["guidance"], p["sampler"], interval_text(p["guidance_interval"])  # type: ignore[arg-type]


def sampling_controls(studio: Any, prefix: str) -> Sampling:
    """Preset, steps, guidance and seed (−1 = random), in the model's defaults."""
    steps, guidance = studio.defaults()
    preset = gr.Radio(
        [("fast", "fast"), ("quality", "quality"), ("custom", CUSTOM)],
        value=matching_preset(studio),
        label="Preset",
        info="fast: " + PRESET_INFO["fast"] + "; quality: " + PRESET_INFO["quality"],
        elem_id=f"{prefix}-quality",
    )
    with gr.Row():
        s = gr.Slider(1, 200, value=steps, step=1, label="Steps", elem_id=f"{prefix}-steps")
        g = gr.Slider(0, 10, value=guidance, step=0.1, label="Guidance", elem_id=f"{prefix}-guidance")
    seed = gr.Number(-1, precision=0, label="Seed (−1 = random)", elem_id=f"{prefix}-seed")
    return Sampling(preset, s, g, seed)


def solver_controls(studio: Any, prefix: str, controls: Sampling) -> Sampling:
    """Sampler, grid rule, eta and guidance interval (defaults: the model's); call inside an Advanced accordion.
    Wires the preset to fill them, and a hand-set value to turn the preset to "custom"."""
    sampler, grid, eta = studio.solver_defaults()
    controls.sampler = gr.Radio(
        [(LABELS[k], k) for k in ("dpmpp-2m", "ddim", "dpmpp-3m", "unipc")],
        value=sampler,
        label="Sampler",
        info="DPM-Solver++(2M) needs about half DDIM's steps for the same picture",
        elem_id=f"{prefix}-sampler",
    )
    controls.grid = gr.Radio(
        [("random", "random"), ("alternate", "alternate"), ("fixed (paper)", "fixed")],
        value=grid,
        label="Patch grid",
        info="where the patch grid sits each step: moving it hides the seams between patches",
        elem_id=f"{prefix}-grid",
    )
    controls.eta = gr.Slider(0, 1, value=eta, step=0.05, label="Eta (0 = deterministic)", elem_id=f"{prefix}-eta")
    controls.interval = gr.Textbox(
        interval_text(studio.pipe.cfg.sampling.guidance_interval),
        label="Guidance interval (timesteps LO-HI)",
        info="guidance runs only at these noise levels (0-999: every step); the others cost one pass, not two",
        max_lines=1,
        elem_id=f"{prefix}-interval",
    )
    c = controls
    c.preset.input(preset_values, c.preset, [c.steps, c.guidance, c.sampler, c.interval], **QUICK)
    hand_set = [c.steps.input, c.guidance.input, c.sampler.input, c.interval.input]
    gr.on(hand_set, None, None, c.preset, js=f"() => {CUSTOM!r}", **QUICK)
    return controls


def inputs(c: Sampling) -> list[Any]:
    """The controls in the order every job takes them: steps, guidance, seed ... sampler, grid, eta; preset
    and interval come last in each endpoint (old API clients keep working)."""
    return [c.steps, c.guidance, c.seed, c.sampler, c.grid, c.eta]


def keep(c: Sampling, prefix: str) -> dict[str, Any]:
    """The controls a browser keeps across reloads, by name."""
    names = {"quality": "preset", "steps": "steps", "guidance": "guidance", "seed": "seed", "sampler": "sampler"}
    names |= {"grid": "grid", "eta": "eta", "interval": "interval"}
    return {f"{prefix}-{k}": getattr(c, n) for k, n in names.items() if getattr(c, n) is not None}


def settings_of(params: dict[str, str], prefix: str) -> dict[str, Any]:
    """A picture's sampling parameters (its PNG text) as the values of these controls, by keep() name."""
    out: dict[str, Any] = {f"{prefix}-quality": CUSTOM}
    sampler = {label: key for key, label in LABELS.items()}.get(params.get("Sampler", ""))
    for key, name, kind in (("Steps", "steps", int), ("Guidance", "guidance", float), ("Seed", "seed", int)):
        try:
            out[f"{prefix}-{name}"] = kind(params[key])
        except (KeyError, ValueError):
            pass
    try:
        out[f"{prefix}-eta"] = float(params["Eta"])
    except (KeyError, ValueError):
        pass
    out |= {f"{prefix}-sampler": sampler} if sampler else {}
    out |= {f"{prefix}-grid": params["Grid"]} if "Grid" in params else {}
    out[f"{prefix}-interval"] = params.get("Guidance interval", interval_text(None))
    return out
