"""Input checks shared by the command line and the app: one sentence per problem, the same words in both.

Every check raises ValueError with a message written for the user (the CLI prints it as one
`error:` line and exits 2; the app shows it as a warning and a status line). Checks run before any
model is loaded or any step runs, so a bad input costs nothing and writes nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from .images import oriented, stale_temporaries
from .sizes import round_up

MAX_PIXELS = 4096 * 2048  # default largest canvas (after rounding to the patch grid), CLI and app alike
MAX_SEED = 2**63 - 1
FORMATS = "PNG, JPEG, WebP, BMP, TIFF or GIF"

# (low, high) of every number a user can give; the CLI's --help and the app's sliders use these too
RANGES: dict[str, tuple[float, float]] = {
    "steps": (1, 1000),
    "guidance": (0, 20),
    "eta": (0, 1),
    "strength": (0, 1),
    "seed": (-1, MAX_SEED),
    "batch": (1, 16),
    "blur": (0, 256),
    "feather": (0, 512),
    "margin": (0, 2048),
    "jump": (1, 100),
    "resample": (1, 100),
    "anchor": (0, 64),
    "chunk": (1, 1 << 20),
    "stride": (1, 4096),
    "scale": (0.05, 16),
    "extend": (0, 16384),
}


def number(name: str, value: object, *, integer: bool = False, lo: float | None = None, hi: float | None = None):
    """`value` (a number or its text) as an int or a finite float within [lo, hi] (defaults: RANGES[name])."""
    if lo is None and hi is None and name in RANGES:
        lo, hi = RANGES[name]
    kind = "a whole number" if integer else "a number"
    span = f" between {_fmt(lo)} and {_fmt(hi)}" if lo is not None and hi is not None else ""
    span = span or (
        f" of at least {_fmt(lo)}" if lo is not None else f" of at most {_fmt(hi)}" if hi is not None else ""
    )
    shown = repr(value) if len(repr(value)) <= 24 else f"{repr(value)[:20]}…"
    problem = f"{name} must be {kind}{span}, got {shown}"
    if isinstance(value, bool) or value is None:
        raise ValueError(problem)
    try:
        if isinstance(value, str) and integer and _INTEGER.match(value):
            x = int(value.strip().replace("_", ""))  # exactly: through a float, 2**53 + 1 would become 2**53
        else:
            x = float(value) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise ValueError(problem) from None
    if isinstance(x, float):
        if not math.isfinite(x) or (integer and not x.is_integer()):
            raise ValueError(problem)
        if integer:
            x = int(x)
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        raise ValueError(problem)
    return int(x) if integer else float(x)


_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")


def _fmt(v: float | None) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def arg(name: str, *, integer: bool = False, lo: float | None = None, hi: float | None = None) -> Callable:
    """An argparse `type=` that applies number(...): out-of-range, NaN, inf and text are usage errors."""

    def parse(text: str):
        try:
            return number(name, text, integer=integer, lo=lo, hi=hi)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = name
    return parse


def pixels(n: int) -> str:
    """'8.4 MP', or '3 000 pixels' below a tenth of a megapixel."""
    return f"{n / 1e6:.1f} MP" if n >= 100_000 else f"{n:,} pixels".replace(",", " ")


def canvas(width: int, height: int, p: int, max_pixels: int = MAX_PIXELS, what: str = "canvas") -> tuple[int, int]:
    """The grid size (W, H) a width x height canvas is painted at, or ValueError when it is empty or too big."""
    if width < 1 or height < 1:
        raise ValueError(f"the {what} size must be positive, got {width}×{height}")
    gw, gh = round_up(width, p), round_up(height, p)
    if gw * gh > max_pixels:
        raise ValueError(
            f"the {what} {gw}×{gh} ({pixels(gw * gh)}) is over the limit of {pixels(max_pixels)} "
            f"(--max-pixels {max_pixels}); choose a smaller size"
        )
    return gw, gh


_OPEN = threading.Lock()  # Pillow's own bomb limit is a global: we lift it only while reading a header


def picture(
    path: str | Path, max_pixels: int = MAX_PIXELS, what: str = "picture", limit_name: str = "--max-pixels"
) -> Image.Image:
    """Open and decode a picture file (mode unchanged, EXIF orientation applied: as a viewer shows it): clear
    errors for a missing, empty, damaged or non-picture file, and for one whose header declares more than
    `max_pixels` (a decompression bomb)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"the {what} file does not exist: {path}")
    if not path.is_file():
        raise ValueError(f"the {what} is not a file: {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"the {what} file is empty: {path}")
    img = open_header(path, f"{what} {path.name}")
    check_pixels(img.width, img.height, max_pixels, what, limit_name)
    try:
        img.load()
    except (OSError, ValueError, SyntaxError):
        raise ValueError(f"the {what} {path.name} is damaged or truncated") from None
    return oriented(img)


def open_header(source: str | Path | BinaryIO, what: str = "picture") -> Image.Image:
    """A lazily opened picture (only its header read), whatever pixel count it declares: the caller checks
    that count against its own limit before decoding (Pillow's global bomb limit is lifted meanwhile)."""
    with _OPEN:
        limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return Image.open(source)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise ValueError(f"the {what} is not a {FORMATS} picture, or it is damaged") from None
        finally:
            Image.MAX_IMAGE_PIXELS = limit


def check_pixels(
    width: int, height: int, max_pixels: int, what: str = "picture", limit_name: str = "--max-pixels"
) -> None:
    """A picture of width x height may be decoded (its pixel count is within max_pixels)."""
    if width * height > max_pixels:
        raise ValueError(
            f"the {what} is {width}×{height} ({pixels(width * height)}), over the limit of "
            f"{pixels(max_pixels)} ({limit_name} {max_pixels})"
        )


def read_limit(max_pixels: int) -> tuple[int, str]:
    """Pictures that are only read (a style reference, a mask, an img2img source that gets resized) may
    be larger than a canvas: four times --max-pixels."""
    return 4 * max_pixels, "4 x --max-pixels"


def output_png(path: str | Path) -> Path:
    """An output path we can write a PNG to, checked before any work (output_file)."""
    return output_file(path, ".png", "the output", why=" (PNG carries the parameters)")


def output_file(path: str | Path, suffix: str, what: str = "the output", why: str = "") -> Path:
    """A file we can write, checked before any work and creating nothing: a `suffix` name, not a folder, in a
    folder that exists or can be made, that takes a new file (probed), and not read-only. The temporary
    files of an earlier writer that was killed are removed from that folder, as the app does at start."""
    path = Path(path)
    if path.suffix.lower() != suffix:
        raise ValueError(f"{what} must be a {suffix} file{why}, got {path.name!r}")
    if path.is_dir():
        raise ValueError(f"{what} {path} is a folder; give a file name ending in {suffix}")
    writable_folder(path.parent, what)
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"cannot overwrite {path}: it is read-only")
    if path.parent.is_dir():
        for stale in stale_temporaries(path.parent):
            stale.unlink(missing_ok=True)
    return path


def writable_folder(folder: str | Path, what: str = "the output") -> Path:
    """A folder that exists and takes a new file, or that can be made inside one that does: the nearest
    existing folder above it is probed with a temporary file (removed), and nothing is created."""
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"cannot write {what} under {folder}: {existing} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".tmp-probe-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"cannot write to {folder}: {exc.strerror or exc}") from None
    return folder


def device(name: str):
    """`auto` or a torch device that exists here (cuda without a GPU is an error, not a crash later)."""
    import torch

    if name in (None, "", "auto"):
        return "auto"
    try:
        dev = torch.device(name)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device {name!r} asked for, but PyTorch sees no CUDA GPU here; use auto or cpu")
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"device {name!r} asked for, but there are only {count} CUDA GPU(s)")
    elif dev.type == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ValueError(f"device {name!r} asked for, but Apple's MPS is not available here; use auto or cpu")
    elif dev.type != "cpu":
        raise ValueError(f"device {name!r} is not supported; use auto, cpu, cuda, cuda:N or mps")
    return dev
