"""Pictures into the app and the checks of every value a client sends: uploads with limits, numbers and sizes
in the CLI's words, the parts of an editor value. The tabs read their pictures through these.

Every problem with what the user gave us is an `InputError` whose message is shown as-is.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from patchdm_core.runtime import checks
from patchdm_core.runtime.images import normalize_mode, oriented
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
    free_memory: int | None = None  # bytes a job may use (None: what the machine has free when it is checked)


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


def editor_parts(value: Any) -> tuple[PictureSource, list[PictureSource]]:
    """(background, layers) of a gr.ImageEditor value (dict) or a bare picture (no layers)."""
    if value is None:
        return None, []
    if isinstance(value, dict):
        return value.get("background"), [v for v in (value.get("layers") or []) if v is not None]
    return value, []
