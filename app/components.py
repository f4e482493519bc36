"""Image inputs that hand uploads to the handlers undecoded, so imaging.py explains every bad file.

Gradio's own preprocessing opens uploads with PIL and converts their mode: a damaged file then
fails inside Gradio (a bare "Error" toast) and 16-bit pictures are clipped. These factories build
the stock components and replace their decoding step on the instance (subclassing a component
would make Gradio write a .pyi file next to this module).
"""

from __future__ import annotations

import io
from typing import Any

import gradio as gr
from PIL import Image, UnidentifiedImageError

from .imaging import Unreadable


def upload_image(**kwargs: Any) -> gr.Image:
    """gr.Image whose value reaches the handler as the uploaded file's path (no re-encoding)."""
    image = gr.Image(type="filepath", image_mode=None, **kwargs)
    stock = image.preprocess

    def preprocess(payload: Any) -> Any:
        if payload is not None and getattr(payload, "path", None) and not str(payload.url or "").startswith("data:"):
            return str(payload.path)
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
                return Image.open(io.BytesIO(bytes(file)))
            return Image.open(file.path)
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
            return Unreadable(str(exc))

    editor.convert_and_format_image = open_lazily  # type: ignore[method-assign]
    return editor
