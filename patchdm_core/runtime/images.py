"""Tensor <-> PIL conversions and PNGs that carry their generation parameters (A1111 `parameters`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from PIL import Image, PngImagePlugin
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


def normalize_mode(img: Image.Image) -> Image.Image:
    """Greyscale, palette, RGBA, CMYK and 16-bit pictures -> 8-bit RGB."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray((arr / peak * 255).round().clip(0, 255).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return img.convert("RGB")


def infotext(params: Mapping[str, object]) -> str:
    """A1111-style `Key: value, Key: value` line (prompt-less)."""
    return ", ".join(f"{k}: {v}" for k, v in params.items())


def parse_infotext(text: str) -> dict[str, str]:
    """Inverse of infotext for the simple values we write."""
    out = {}
    for part in text.split(", "):
        key, sep, value = part.partition(": ")
        if sep:
            out[key.strip()] = value.strip()
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
    try:
        with os.fdopen(fd, "wb") as f:
            img.save(f, format="PNG", pnginfo=info)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
