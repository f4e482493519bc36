"""Pictures in and out of the app: uploads with limits, editor values -> picture + keep mask, layout sketches.

UI masks are PAINTED = REPAINT (what artists expect); core masks are 1 = KEEP. The conversion
happens here, once (`keep_mask`). Every problem with what the user gave us is an `InputError`
whose message is shown as-is.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import Tensor

from patchdm_core.runtime import checks
from patchdm_core.runtime.images import normalize_mode, oriented, repaint_mask
from patchdm_core.runtime.sizes import round_up

GRID = 64  # UI sizes and outpaint extensions snap to this many pixels
FORMATS = checks.FORMATS
NOT_UPLOADED = "not an upload to this app"  # set by components.py for a server path a client named


class InputError(ValueError):
    """A problem with the user's input; the message is written for the user."""


@dataclass(frozen=True)
class Invalid:
    """A value a client sent for a number field that is not a usable number (the reason, in words)."""

    message: str


@dataclass(frozen=True)
class Unreadable:
    """An upload that could not be opened at all (stands in for the picture)."""

    reason: str


@dataclass(frozen=True)
class Limits:
    max_pixels: int = 4096 * 2048  # largest canvas (after snapping to the patch grid), pixels
    max_upload_bytes: int = 50 * 1024 * 1024  # largest uploaded file
    max_job_cost: float = 1000.0  # largest job in megapixel-steps (canvas MP x model evaluations x batch)


PictureSource = str | Path | bytes | Image.Image | np.ndarray | Unreadable | None
MAX_PICTURES = 16  # pictures one request may carry (an editor's background and layers, uploads): the app sends 3


def request_pictures(values: Any, limits: Limits) -> str | None:
    """Every picture a request carries, however it arrived (an upload's path, a lazily opened editor layer,
    an inline picture), counted and sized against one limit before any is decoded: the refusal, or None.
    Their files together may take --max-upload-mb, their pixels together four canvases (--max-pixels)."""
    found: list[Any] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for part in v.values():
                walk(part)
        elif isinstance(v, (list, tuple)):
            for part in v:
                walk(part)
        elif isinstance(v, (Image.Image, bytes, Path)) or (isinstance(v, str) and _names_a_file(v)):
            found.append(v)

    walk(values)
    if len(found) > MAX_PICTURES:
        return f"this request carries {len(found)} pictures; one job takes at most {MAX_PICTURES}"
    size = pixels = 0
    for v in found:
        if isinstance(v, Image.Image):  # opened lazily: its header only
            pixels += v.width * v.height
            size += Path(v.filename).stat().st_size if getattr(v, "filename", "") else 0
        elif isinstance(v, bytes):
            size += len(v)
        else:
            size += Path(v).stat().st_size
    if size > limits.max_upload_bytes:
        return f"this request's pictures take {fmt_bytes(size)}, over the {fmt_bytes(limits.max_upload_bytes)} limit"
    if pixels > 4 * limits.max_pixels:
        return f"this request's pictures hold {checks.pixels(pixels)}, over four canvases of --max-pixels"
    return None


def _names_a_file(text: str) -> bool:
    """Whether a string sent as any input is the path of a file (an upload); a 300-character name or one with
    a NUL byte is simply not one (Path.is_file raises on the first)."""
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False


def fmt_bytes(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} kB"


def size_input(width: object, height: object) -> tuple[int, int]:
    """Width and height from the UI or an API client as whole numbers of 1..65536 pixels."""
    return tuple(number(name, v, integer=True, lo=1, hi=65536) for name, v in (("width", width), ("height", height)))


def flag(name: str, value: object) -> bool:
    """A checkbox value: True or False (an API client may send anything)."""
    if not isinstance(value, bool):
        raise InputError(f"{name} must be true or false, got {value!r}")
    return value


def snap(n: float, grid: int = GRID) -> int:
    """Nearest non-negative multiple of grid."""
    return max(0, int(round(float(n) / grid)) * grid)


def check_canvas(width: int, height: int, p: int, limits: Limits, what: str = "canvas") -> tuple[int, int]:
    """Grid size (W, H) of a canvas, or InputError when it is empty or over --max-pixels (the CLI's words)."""
    try:
        return checks.canvas(width, height, p, limits.max_pixels, what)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def number(name: str, value: object, *, integer: bool = False, lo: float | None = None, hi: float | None = None):
    """A number from the UI or an API client (text, NaN, inf and out-of-range refused in the CLI's words)."""
    if isinstance(value, Invalid):
        raise InputError(value.message)
    try:
        return checks.number(name, value, integer=integer, lo=lo, hi=hi)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def size_note(width: int, height: int, p: int, tile_grid: tuple[int, int] | None = None) -> str:
    """'' on the patch grid, else how the canvas is painted on whole patches and fitted back: centre-cropped,
    or, for a tile, resampled with wrap-around from `tile_grid` = (W, H) (PatchDM.grid_size)."""
    gw, gh = tile_grid or (round_up(width, p), round_up(height, p))
    if (gw, gh) == (width, height):
        return ""
    how = "resampled with wrap-around (the tile keeps wrapping)" if tile_grid else "centre-cropped"
    return f"{width}×{height} is off the {p}-px grid: painted at {gw}×{gh} and {how}"


def _open(src: PictureSource, limits: Limits, what: str) -> Image.Image:
    """A lazily opened PIL image (not decoded yet) with the byte limit checked."""
    if src is None:
        raise InputError(f"upload a {what} first")
    if isinstance(src, Unreadable):
        if src.reason == NOT_UPLOADED:
            raise InputError(f"the {what} was not uploaded to this app: upload the file, do not name a server path")
        raise InputError(f"could not read the {what}: it is not a {FORMATS} picture, or the file is damaged")
    if isinstance(src, Image.Image):
        return src
    if isinstance(src, np.ndarray):
        try:
            return Image.fromarray(src)
        except (TypeError, ValueError) as exc:
            raise InputError(f"could not read the {what}: unsupported pixel layout {src.shape} {src.dtype}") from exc
    if isinstance(src, bytes):
        size, opener = len(src), lambda: checks.open_header(io.BytesIO(src), what)
    else:
        path = Path(src)
        if not path.is_file():
            raise InputError(f"the {what} file is missing on the server; upload it again")
        size, opener = path.stat().st_size, lambda: checks.open_header(path, what)
    if size > limits.max_upload_bytes:
        raise InputError(
            f"the {what} file is {fmt_bytes(size)}, over the {fmt_bytes(limits.max_upload_bytes)} upload limit"
        )
    try:
        return opener()
    except ValueError as exc:
        raise InputError(f"could not read the {what}: it is not a {FORMATS} picture, or the file is damaged") from exc


def describe_mode(img: Image.Image) -> str:
    """A note for pictures that are converted on the way in ('' for plain 8-bit RGB)."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return "16-bit picture scaled to 8 bits"
    if img.mode in ("L", "1", "LA"):
        return "greyscale picture converted to colour"
    if img.mode == "CMYK":
        return "CMYK picture converted to RGB"
    has_alpha = img.mode in ("RGBA", "PA") or (img.mode == "P" and "transparency" in img.info)
    if has_alpha and img.convert("RGBA").getchannel("A").getextrema()[0] < 255:
        return "transparent areas painted white"
    return ""


def decode(src: PictureSource, limits: Limits, p: int = 1, what: str = "picture") -> Image.Image:
    """Open and decode an upload as it is (mode unchanged), enforcing the byte and pixel limits."""
    img = _open(src, limits, what)
    try:  # the picture's own size in the message, not the grid it would be painted on
        checks.check_pixels(img.width, img.height, limits.max_pixels, what)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    check_canvas(img.width, img.height, p, limits, what)
    try:
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)
        img.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise InputError(f"could not read the {what}: the file is damaged or truncated") from exc
    return oriented(img)


def load_picture(src: PictureSource, limits: Limits, p: int = 1, what: str = "picture") -> tuple[Image.Image, str]:
    """Any upload -> (8-bit RGB picture, conversion note); InputError for anything unusable."""
    img = decode(src, limits, p, what)
    try:
        return normalize_mode(img), describe_mode(img)
    except ValueError as exc:
        raise InputError(str(exc)) from None


# -- masks ------------------------------------------------------------------------------------


def painted_pixels(layer: Image.Image) -> np.ndarray:
    """Bool [H,W] of strokes: alpha > 0 for editor layers; white > 50 % for opaque mask pictures (the
    command line reads mask files by the same rule)."""
    return repaint_mask(layer)


def keep_mask(painted: np.ndarray) -> Tensor:
    """UI repaint mask (bool [H,W], True = repaint) -> core keep mask [1,1,H,W] float (1 = keep)."""
    return torch.from_numpy((~painted).astype(np.float32))[None, None]


def editor_parts(value: Any) -> tuple[PictureSource, list[PictureSource]]:
    """(background, layers) of a gr.ImageEditor value (dict) or a bare picture (no layers)."""
    if value is None:
        return None, []
    if isinstance(value, dict):
        return value.get("background"), [v for v in (value.get("layers") or []) if v is not None]
    return value, []


def picture_and_mask(value: Any, limits: Limits, p: int = 1) -> tuple[Image.Image, np.ndarray, str]:
    """An editor value -> (RGB picture, painted bool [H,W], note); InputError for empty/mismatched masks."""
    background, layers = editor_parts(value)
    picture, note = load_picture(background, limits, p)
    painted = np.zeros((picture.height, picture.width), dtype=bool)
    for src in layers:
        layer = decode(src, limits, 1, what="mask")
        if layer.size != picture.size:
            raise InputError(
                f"the mask is {layer.size[0]}×{layer.size[1]} but the picture is {picture.size[0]}×{picture.size[1]}; "
                "paint the mask on this picture again"
            )
        painted |= painted_pixels(layer)
    if not painted.any():
        raise InputError("the mask is empty: paint over the area to repaint first")
    return picture, painted, note


def mask_cells(painted: np.ndarray, p: int, margin: int) -> int:
    """Patches an only-masked run covers: the mask's bounding box plus margin, on the patch grid."""
    ys, xs = np.nonzero(painted)
    h, w = painted.shape
    r0, c0 = max(0, int(ys.min()) - margin) // p, max(0, int(xs.min()) - margin) // p
    r1, c1 = -(-min(h, int(ys.max()) + 1 + margin) // p), -(-min(w, int(xs.max()) + 1 + margin) // p)
    return (r1 - r0) * (c1 - c0)


def outpaint_layout(
    picture: Image.Image, pad: tuple[int, int, int, int], feather: int, max_side: int = 640
) -> Image.Image:
    """The grown canvas as a sketch: new area checkered, the old picture in place, the seam band marked."""
    top, right, bottom, left = pad
    w, h = picture.width + left + right, picture.height + top + bottom
    scale = min(1.0, max_side / max(w, h))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    cell = max(4, round(GRID * scale))
    board = ((np.arange(sh)[:, None] // cell + np.arange(sw)[None, :] // cell) % 2).astype(np.uint8)
    canvas = Image.fromarray(np.where(board[..., None] == 1, 200, 160).astype(np.uint8).repeat(3, axis=2))
    box = (
        round(left * scale),
        round(top * scale),
        round((left + picture.width) * scale),
        round((top + picture.height) * scale),
    )
    canvas.paste(picture.resize((max(1, box[2] - box[0]), max(1, box[3] - box[1])), Image.BILINEAR), box[:2])
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), outline=(255, 46, 136), width=2)
    f = round(feather * scale)
    if f > 1:  # the feather band reaches into the old picture on the extended sides
        x0, y0, x1, y1 = box[0], box[1], box[2] - 1, box[3] - 1
        band = (255, 200, 0)
        if top:
            draw.line((x0, y0 + f, x1, y0 + f), fill=band)
        if bottom:
            draw.line((x0, y1 - f, x1, y1 - f), fill=band)
        if left:
            draw.line((x0 + f, y0, x0 + f, y1), fill=band)
        if right:
            draw.line((x1 - f, y0, x1 - f, y1), fill=band)
    return canvas
