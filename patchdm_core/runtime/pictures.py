"""Folders of pictures, read the same way for training and for evaluation: every jpg/png/webp file under
a folder, decoded to 8-bit RGB (a file that cannot be used is skipped with one warning line), resized to
cover a size and cropped."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .images import normalize_mode

EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp"}


def list_images(root: str | Path) -> list[Path]:
    """Every jpg/png/webp file under root, sorted; a missing or empty folder is a clear error."""
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"data folder not found: {root}")
    if not root.is_dir():
        raise NotADirectoryError(f"not a folder: {root}")
    files = sorted(f for f in root.rglob("*") if f.suffix.lower() in EXTENSIONS and f.is_file())
    if not files:
        raise ValueError(f"no images (jpg, png, webp) in {root}")
    return files


def load_rgb(path: Path) -> Image.Image | None:
    """Decode one file to 8-bit RGB; None (with one warning line) if it cannot be used."""
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "PA") and np.asarray(img.getchannel("A")).mean() < 128:
                _warn(f"skipping {path}: mostly transparent (an overlay, not a picture)")
                return None
            return normalize_mode(img)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        _warn(f"skipping {path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        return None


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def crops_of(img: Image.Image, size: tuple[int, int], crops: str) -> list[np.ndarray]:
    """Resize to cover (H, W) = size and cut one centred crop, or several evenly along the long side."""
    h, w = size
    scale = max(h / img.height, w / img.width)
    rw, rh = max(w, round(img.width * scale)), max(h, round(img.height * scale))
    arr = np.asarray(img.resize((rw, rh), Image.Resampling.LANCZOS, reducing_gap=3.0))
    ys = _offsets(rh, h, max(1, round(rh / h)) if crops == "multi" else 1)
    xs = _offsets(rw, w, max(1, round(rw / w)) if crops == "multi" else 1)
    return [arr[y : y + h, x : x + w] for y in ys for x in xs]


def _offsets(total: int, size: int, n: int) -> list[int]:
    if n == 1:
        return [(total - size) // 2]
    return np.linspace(0, total - size, n).round().astype(int).tolist()
