"""Tensor <-> PIL conversions and PNGs that carry their generation parameters (A1111 `parameters`)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, PngImagePlugin
from torch import Tensor

TMP_PREFIX = ".tmp-"  # save_png's temporary files: .tmp-<pid>-<random>.png next to the final name


def stale_temporaries(folder: str | Path, max_age_s: float = 3600.0) -> list[Path]:
    """save_png temporary files in `folder` whose writer is gone, or that are older than max_age_s (the
    only test for names without a pid, which older versions wrote)."""
    import time

    stale = []
    for f in Path(folder).glob(f"{TMP_PREFIX}*.png"):
        pid = f.name[len(TMP_PREFIX) :].split("-", 1)[0]
        try:
            gone = pid.isdigit() and not _running(int(pid))
            if gone or time.time() - f.stat().st_mtime > max_age_s:
                stale.append(f)
        except FileNotFoundError:  # finished (renamed) meanwhile
            continue
    return stale


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def to_pil(x: Tensor) -> Image.Image:
    """[1,3,H,W] or [3,H,W] in [-1,1] -> RGB PIL image (rounded, clipped)."""
    if x.ndim == 4:
        if x.shape[0] != 1:
            raise ValueError("to_pil takes one image; index the batch first")
        x = x[0]
    arr = ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return Image.fromarray(arr.permute(1, 2, 0).numpy(), "RGB")


def from_pil(img: Image.Image) -> Tensor:
    """Any PIL image -> [1,3,H,W] float in [-1,1] (alpha composited on white, 16-bit scaled to 8)."""
    img = normalize_mode(img)
    arr = torch.from_numpy(np.asarray(img, dtype=np.uint8).copy())
    return arr.permute(2, 0, 1)[None].float() / 127.5 - 1


def has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info)


def normalize_mode(img: Image.Image) -> Image.Image:
    """Any picture Pillow opens -> 8-bit RGB: greyscale, palette, RGBA (on white), CMYK, 16- and 32-bit integer
    and floating-point pixels (scaled to their range, not clipped to black); ValueError for a mode that has
    no RGB meaning."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.nan_to_num(np.asarray(img, dtype=np.float64))
        # float pictures are 0..1 by convention, integer ones 0..255 or 0..65535
        peak = 1.0 if img.mode == "F" and arr.max() <= 1.0 else 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray((arr / peak * 255).round().clip(0, 255).astype(np.uint8), "L")
    if has_alpha(img):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    try:
        return img.convert("RGB")
    except (ValueError, OSError):
        raise ValueError(f"pictures in Pillow's {img.mode!r} mode cannot be used; save it as RGB") from None


def oriented(img: Image.Image) -> Image.Image:
    """The picture as a viewer shows it: its EXIF orientation applied (a phone's JPEG is stored sideways)."""
    return ImageOps.exif_transpose(img) or img


def repaint_mask(mask: Image.Image) -> np.ndarray:
    """Bool [H,W], True where a mask picture asks to repaint, the same in the app and the command line: a
    picture with transparency repaints its strokes (alpha > 0; transparent = keep), an opaque one its white
    (>= 50 % grey; black = keep)."""
    if has_alpha(mask):
        alpha = np.asarray(mask.convert("RGBA").getchannel("A"))
        if alpha.min() < 255:
            return alpha > 0
    return np.asarray(normalize_mode(mask).convert("L")) >= 128


def infotext(params: Mapping[str, object]) -> str:
    """A1111-style `Key: value, Key: value` line (prompt-less). A value that holds the separators (a file or
    model name with ", " or ": " in it, a span's comma list) is written as a JSON string, as A1111 does, so
    that no value can pose as another key."""
    return ", ".join(f"{k}: {_quote(v)}" for k, v in params.items())


def _quote(value: object) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if any(c in text for c in ',:"\n\r') else text


def parse_infotext(text: str) -> dict[str, str]:
    """Inverse of infotext: quoted values are read as the JSON strings they are."""
    out, i, decoder = {}, 0, json.JSONDecoder()
    while i < len(text):
        key_end = text.find(": ", i)
        if key_end < 0:
            break
        key, i = text[i:key_end].strip(), key_end + 2
        if text.startswith('"', i):
            try:
                value, i = decoder.raw_decode(text, i)
            except ValueError:  # not ours: keep the rest as it is
                value, i = text[i:], len(text)
        else:
            end = text.find(", ", i)
            end = len(text) if end < 0 else end
            value, i = text[i:end].strip(), end
        out[key] = str(value)
        if text.startswith(", ", i):
            i += 2
    return out


def save_png(img: Image.Image, path: str | Path, params: Mapping[str, object] | None = None) -> Path:
    """Write a PNG atomically (temp file + rename) with a `parameters` text chunk."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    info = PngImagePlugin.PngInfo()
    if params:
        info.add_text("parameters", infotext(params))
    # the writer's pid in the name: a later start can tell an orphan (its writer died) from a live write
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix=".png", dir=path.parent)
    with atomic(path, tmp):
        with os.fdopen(fd, "wb") as f:
            img.save(f, format="PNG", pnginfo=info)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    return path


@contextmanager
def atomic(path: str | Path, tmp: str | Path) -> Iterator[None]:
    """The block writes `tmp` and renames it to `path`: on any failure (a full disk, Ctrl-C) the temporary
    file goes and the error names `path`, the file the user asked for, not the temporary one."""
    try:
        yield
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
