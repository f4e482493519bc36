"""Image-to-image pieces (SDEdit, Meng et al. 2022): resizing a picture onto a canvas, where on the
solver's ladder a strength starts, and per-pixel strength for sketches with transparent areas.

strength s in [0, 1] starts the chain round(s * steps) evaluations before the clean end: the picture
is noised to that level (schedule.q_sample) with the canvas's per-patch noise and denoised from
there. s = 0 returns the picture; s = 1 starts from pure noise, which is `generate` with the
picture's global code.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from ..runtime.filters import resample_periodic
from ..runtime.images import from_pil, to_pil


def check_strength(strength: float) -> float:
    """A finite strength in [0, 1], or ValueError with a sentence for the user."""
    strength = float(strength)
    if not 0.0 <= strength <= 1.0:  # also refuses nan
        raise ValueError(f"strength must be between 0 and 1, got {strength}")
    return strength


def denoise_steps(steps: int, strength: float) -> int:
    """How many of a `steps`-long ladder's evaluations a strength runs (0: the picture comes back)."""
    return int(round(steps * check_strength(strength)))


def resize(x: Tensor, height: int, width: int) -> Tensor:
    """[1,3,h,w] in [-1,1] -> [1,3,height,width] by Lanczos (PIL), 8-bit like every picture we read."""
    if tuple(x.shape[-2:]) == (height, width):
        return x
    return from_pil(to_pil(x).resize((width, height), Image.Resampling.LANCZOS)).to(x.device)


def place(
    x: Tensor, height: int, width: int, wrap: tuple[bool, bool] = (False, False)
) -> tuple[Tensor, tuple[int, int]]:
    """Centre a picture on the whole-patch canvas generate paints (the area it crops), edge-replicated around
    it; along a wrapped axis the picture is resampled to the canvas instead (generate resamples it back).
    Returns the canvas and the picture's (top, left)."""
    for dim, (n, wrapped) in zip((-2, -1), zip((height, width), wrap)):
        if wrapped:
            x = resample_periodic(x, n, dim)
    h, w = x.shape[-2:]
    top, left = (height - h) // 2, (width - w) // 2
    if (h, w) == (height, width):
        return x, (0, 0)
    return F.pad(x, (left, width - w - left, top, height - h - top), mode="replicate"), (top, left)


def split_alpha(picture: Image.Image) -> tuple[Image.Image, Tensor | None]:
    """A picture with transparency -> (RGB with the transparent parts filled with the mean painted
    colour, alpha [1,1,H,W] in [0,1]); an opaque one -> (RGB, None).

    Transparent means "no guidance there": those pixels are painted freely (strength 1)."""
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info)
    if not has_alpha:
        return picture.convert("RGB"), None
    rgba = np.asarray(picture.convert("RGBA"), dtype=np.float32) / 255.0
    alpha = rgba[..., 3:]
    if alpha.max() < 0.5:
        raise ValueError("the sketch is empty (fully transparent): paint something or upload a picture")
    if alpha.min() >= 1.0:
        return picture.convert("RGB"), None
    painted = alpha[..., 0] >= 0.5
    fill = rgba[painted, :3].mean(axis=0)
    rgb = rgba[..., :3] * alpha + fill * (1 - alpha)
    image = Image.fromarray((rgb * 255).round().clip(0, 255).astype(np.uint8), "RGB")
    return image, torch.from_numpy(alpha[..., 0].copy())[None, None]


def sketch_strength(alpha: Tensor, strength: float) -> Tensor:
    """Per-pixel repaint strength of a partly transparent sketch: `strength` where painted, 1 where
    transparent (blended by alpha)."""
    return alpha * check_strength(strength) + (1 - alpha)
