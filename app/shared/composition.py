"""Compositions in the app (Generate, Span): where a canvas's large shapes come from (patchdm_core.composition:
designed layouts in a family, the training layouts, the layout model, or the reference picture's own), how
strongly they hold (structure guidance, sampling/structure.py), and the PNG parameters the command line
writes for them (Composition, Layout seed, Layout family, Compose, Structure strength, band, stop).
"""

from __future__ import annotations

from typing import Any

import gradio as gr
from PIL import Image

from patchdm_core.composition.designs import FAMILIES
from patchdm_core.composition.sources import DEFAULT_COMPOSITION, DesignedLayouts, PictureLayout, composition_name
from patchdm_core.sampling.structure import Structure

from .imaging import InputError, number

PICTURE = "picture"  # the reference picture's own composition
LABELS = {
    "none": "none",
    "designed": "designed",
    "training-layouts": "training layouts",
    "layout-model": "layout model",
    PICTURE: "the reference picture's",
}
ANY = "any"
BESIDE = {"training-layouts": "WEIGHTS-layouts.png", "layout-model": "WEIGHTS-layout.safetensors"}


def choices(studio: Any) -> list[tuple[str, str]]:
    """What the Composition control offers: none, what studio.layouts holds, the reference picture's."""
    return [(LABELS.get(c, c), c) for c in ["none", *studio.layouts, PICTURE]]


def controls(studio: Any, prefix: str, picture: bool = True) -> tuple[gr.Radio, gr.Dropdown, gr.Slider]:
    """Composition, the family of a designed layout, and how strongly the layout holds."""
    offered = [c for c in choices(studio) if picture or c[1] != PICTURE]
    comp = gr.Radio(
        offered,
        value=DEFAULT_COMPOSITION if DEFAULT_COMPOSITION in {v for _, v in offered} else "none",
        label="Composition",
        info="paint on large shapes: a designed layout (waves, ridges, a horizon, …), a training picture's, one "
        "from the layout model (each picked by the seed)" + (", or the reference picture's own" if picture else ""),
        elem_id=f"{prefix}-composition",
    )
    family = gr.Dropdown(
        [(ANY, ANY), *((f, f) for f in FAMILIES)],
        value=ANY,
        label="Layout family (designed)",
        elem_id=f"{prefix}-family",
    )
    strength = gr.Slider(
        0,
        1,
        value=Structure().strength,
        step=0.05,
        label="Layout strength",
        info="how closely the large shapes follow the layout (1: exactly; lower lets the model move them)",
        elem_id=f"{prefix}-layout-strength",
    )
    return comp, family, strength


def source(studio: Any, composition: object, family: object, reference: Image.Image | None) -> tuple[str, Any | None]:
    """(checked composition name, its layout source or None for "none"); InputError in the CLI's words."""
    if composition == PICTURE:
        if reference is None:
            raise InputError("the reference picture's composition needs a reference picture: upload one first")
        return PICTURE, PictureLayout(reference)
    try:
        name = composition_name(str(composition or "none"))
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if name == "none":
        return name, None
    if name not in studio.layouts:
        raise InputError(f"this model ships no {name.replace('-', ' ')} ({BESIDE.get(name, name)} beside its weights)")
    family = None if family in (None, "", ANY) else str(family)
    if family is not None and family not in FAMILIES:
        raise InputError(f"unknown layout family {family!r}; choose one of {', '.join(FAMILIES)} or any")
    if name == "designed":  # drawn in the reference's colours when there is one, as --style does on the CLI
        return name, DesignedLayouts(family, reference)
    return name, studio.layouts[name]


def structure(strength: object) -> Structure:
    """The structure guidance of a layout strength from the UI (the default when empty)."""
    default = Structure()
    if strength is None or strength == "":
        return default
    return Structure(default.band, number("layout strength", strength, lo=0, hi=1), default.t_stop)


def params(name: str, src: Any, seed: int, guide: Structure, reference_name: str | None) -> dict[str, object]:
    """The PNG parameters of a composed picture, with the command line's keys."""
    out: dict[str, object] = {"Composition": name}
    if name == PICTURE:
        out["Layout"] = reference_name or "reference picture"
    else:
        out["Layout seed"] = seed
    if getattr(src, "last_family", None):
        out["Layout family"] = src.last_family
    return out | {
        "Compose": "structure",
        "Structure strength": guide.strength,
        "Structure band": guide.band,
        "Structure stop": guide.t_stop,
    }
