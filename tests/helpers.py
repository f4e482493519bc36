"""Small synthetic image folders for data and training tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def smooth_picture(seed: int, size: tuple[int, int] = (96, 64)) -> Image.Image:
    """A sky-over-ground gradient with a little texture (W, H = size)."""
    rng = np.random.default_rng(seed)
    w, h = size
    y = np.linspace(0, 1, h)[:, None, None]
    top, bottom = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    arr = top * (1 - y) + bottom * y + rng.normal(0, 8, (h, w, 3))
    return Image.fromarray(np.broadcast_to(arr, (h, w, 3)).clip(0, 255).astype(np.uint8))


def image_folder(root: Path, n: int = 4, size: tuple[int, int] = (96, 64)) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        smooth_picture(i, size).save(root / f"img{i}.png")
    return root
