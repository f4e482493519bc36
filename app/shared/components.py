"""Image inputs that hand uploads to the actions undecoded, so imaging.py explains every bad file.

Gradio's own preprocessing opens uploads with PIL and converts their mode: a damaged file then
fails inside Gradio (a bare "Error" toast) and 16-bit pictures are clipped. These factories build
the stock components and replace their decoding step on the instance (subclassing a component
would make Gradio write a .pyi file next to this module).
"""

from __future__ import annotations

import io
from typing import Any

import gradio as gr
from gradio.utils import abspath, get_upload_folder, is_in_or_equal

from patchdm_core.runtime import checks

from .imaging import NOT_UPLOADED, Invalid, Unreadable


def uploaded(path: str) -> bool:
    """Whether a file path a client sent points into Gradio's upload folder (where every upload, and
    every picture this app showed, lands); anything else is a server path we must not open."""
    return is_in_or_equal(abspath(path), get_upload_folder())


def upload_image(**kwargs: Any) -> gr.Image:
    """gr.Image whose value reaches the handler as the uploaded file's path (no re-encoding)."""
    image = gr.Image(type="filepath", image_mode=None, **kwargs)
    stock = image.preprocess

    def preprocess(payload: Any) -> Any:
        if payload is not None and getattr(payload, "path", None) and not str(payload.url or "").startswith("data:"):
            return str(payload.path) if uploaded(str(payload.path)) else Unreadable(NOT_UPLOADED)
        try:
            return stock(payload)
        except Exception as exc:  # noqa: BLE001 - any decoding failure becomes a user message later
            return Unreadable(str(exc))

    image.preprocess = preprocess  # type: ignore[method-assign]
    return image


def mask_editor(**kwargs: Any) -> gr.ImageEditor:
    """gr.ImageEditor whose background and layers reach the handler as lazily opened PIL images in
    their own mode (alpha kept for the mask), or `Unreadable` markers."""
    editor = gr.ImageEditor(type="pil", **kwargs)

    def open_lazily(file: Any, flatten_on_white: bool = False) -> Any:
        if file is None:
            return None
        try:
            if isinstance(file, (bytes, bytearray, memoryview)):
                return checks.open_header(io.BytesIO(bytes(file)))
            if not uploaded(str(file.path)):
                return Unreadable(NOT_UPLOADED)
            return checks.open_header(file.path)
        except ValueError as exc:  # the pixel limit is checked by imaging.decode, with the picture's size
            return Unreadable(str(exc))

    editor.convert_and_format_image = open_lazily  # type: ignore[method-assign]
    return editor


def guard_inputs(demo: gr.Blocks) -> None:
    """Every number box, slider and radio of the app takes whatever a client sends without raising:
    a bad number becomes an `Invalid` marker and an unknown choice passes through, so the action
    refuses it with one clear sentence (the CLI's words) as a status line. A raising preprocess would
    instead fail the event's admission check with a bare HTTP 400."""
    for block in demo.blocks.values():
        if isinstance(block, (gr.Number, gr.Slider)):
            _guard_number(block)
        elif isinstance(block, (gr.Radio, gr.Dropdown)):
            block.preprocess = lambda payload: payload  # type: ignore[method-assign]  # actions check choices


def _guard_number(block: gr.Number | gr.Slider) -> None:
    stock, name = block.preprocess, str(block.label or block.elem_id or "value")
    integer = getattr(block, "precision", None) == 0 or getattr(block, "step", None) == 1

    def preprocess(payload: Any) -> Any:
        if payload is None:  # an API client left it out: the action uses the model's default
            return None
        try:
            value = checks.number(name, payload, integer=integer, lo=block.minimum, hi=block.maximum)
        except ValueError as exc:
            return Invalid(str(exc))
        return stock(value)

    block.preprocess = preprocess  # type: ignore[method-assign]
