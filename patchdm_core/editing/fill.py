"""What an edit's painted area starts from below strength 1, so that it joins its border instead of
drifting to the model's own palette: the hole filled from the kept picture around it (inpaint), or the
picture mirrored out past its borders (outpaint). The model then paints the texture."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..runtime.filters import gaussian_blur
from .regions import bounding_cells

# Telea's radius: how many px of kept picture around each hole pixel it averages, weighted along the
# direction the border's isophotes run. Chosen by eye on the test picture in assets/ (a 128-px square
# across the shore): 2 carries the shoreline in as a hard diagonal, 10 and 20 blur it to a smear.
TELEA_RADIUS = 5


def fill_hole(image: Tensor, keep: Tensor, how: str = "structure") -> Tensor:
    """image [1,C,H,W] with the pixels where keep [1,1,H,W] < 0.5 filled from the kept ones: what a
    hole starts from at strength < 1 (the model then paints the texture), so the painted area joins
    its border instead of drifting to the model's own palette.

    how="structure" (the default): Telea's fast-marching inpainting (OpenCV): the hole is filled from
    its border inwards, each pixel a weighted mean of kept pixels near it, weighted along the border's
    isophotes, so an edge that crosses the hole (a shoreline, a horizon) is carried across it. On the
    test picture in assets/ (a 128-px square across the shore) the harmonized inpaint's border score
    fell from 1.98 to 1.18 against "smooth".
    how="smooth": push-pull (mask-weighted averages on a pyramid, coarse levels filling the holes of
    fine ones): one blurred mean of the border's colours, which greys out where two colours meet."""
    w = (keep >= 0.5).to(image.dtype)
    if not (w > 0).any():
        raise ValueError("nothing is kept: the fill needs some known pixels")
    if how not in ("structure", "smooth"):
        raise ValueError(f"how must be 'structure' or 'smooth', got {how!r}")
    if (w > 0).all():
        return image.clone()
    if how == "structure":
        out = _telea(image, w < 1)
    else:
        out = _push_pull(image, w)
    return torch.where(w > 0, image, out)


def _telea(image: Tensor, hole: Tensor) -> Tensor:
    """OpenCV's Telea inpainting of image [1,C,H,W] in [-1,1] where hole [1,1,H,W] is True, run on the
    hole's bounding box grown by the radius (the pixels it reads), in 8 bits (OpenCV's colour type; a
    start that is noised anyway needs no more). Colour channels are filled together, others one by one."""
    import cv2  # only edits need it; keeps `import patchdm_core` light

    r0, r1, c0, c1 = bounding_cells(hole.float(), 1, TELEA_RADIUS + 1)  # 1-px cells: the pixel box
    box = (slice(r0, r1), slice(c0, c1))
    part = image[0][(slice(None), *box)].float().clamp(-1, 1).add(1).mul(127.5).round().byte()
    part = part.permute(1, 2, 0).cpu().numpy()
    mask = hole[0, 0][box].to(torch.uint8).cpu().numpy()
    groups = [part] if part.shape[-1] in (1, 3) else [part[..., i : i + 1] for i in range(part.shape[-1])]
    filled = [cv2.inpaint(g.copy(), mask, TELEA_RADIUS, cv2.INPAINT_TELEA).reshape(*mask.shape, -1) for g in groups]
    fill = torch.from_numpy(np.concatenate(filled, -1)).permute(2, 0, 1)
    out = image.clone()
    out[0][(slice(None), *box)] = fill.to(image.device, image.dtype) / 127.5 - 1
    return out


def _push_pull(image: Tensor, w: Tensor) -> Tensor:
    pyramid = [(image * w, w)]
    while pyramid[-1][1].min() <= 0 and max(pyramid[-1][1].shape[-2:]) > 1:
        xs, ws = pyramid[-1]
        k = tuple(2 if n > 1 else 1 for n in ws.shape[-2:])  # halve each side until it is one pixel
        pyramid.append((F.avg_pool2d(xs, k, ceil_mode=True), F.avg_pool2d(ws, k, ceil_mode=True)))
    xs, ws = pyramid[-1]
    out = xs / ws.clamp(min=1e-8)
    for xs, ws in reversed(pyramid[:-1]):
        up = F.interpolate(out, size=xs.shape[-2:], mode="bilinear", align_corners=False)
        a = ws.clamp(max=1)  # fully known cells keep their own mean; partly known ones blend
        out = a * (xs / ws.clamp(min=1e-8)) + (1 - a) * up
    return out


def mirror_fill(canvas: Tensor, box: tuple[int, int, int, int], blur: int = 16) -> Tensor:
    """The picture at rows top:top+h, cols left:left+w of `canvas` (box = (top, left, h, w)) mirrored out
    to the whole canvas and blurred there: the colours next to each border carry on past it, which a
    global average (fill_hole) would wash out to grey over a wide strip. What outpainting starts from
    at strength < 1; the picture itself stays sharp."""
    top, left, h, w = box
    picture = canvas[..., top : top + h, left : left + w]
    rows = _reflect_index(torch.arange(canvas.shape[-2]) - top, h)
    cols = _reflect_index(torch.arange(canvas.shape[-1]) - left, w)
    mirrored = picture[..., rows.to(canvas.device), :][..., cols.to(canvas.device)]
    inside = torch.zeros(1, 1, *canvas.shape[-2:], device=canvas.device)
    inside[..., top : top + h, left : left + w] = 1
    soft = gaussian_blur(mirrored, blur) if blur > 0 else mirrored
    return torch.where(inside > 0, canvas, soft)


def _reflect_index(u: Tensor, n: int) -> Tensor:
    """Indices u (any integers) folded into [0, n) by mirroring (n-1 | n-2 ... 0 | 0 1 ... n-1 | n-1 ...)."""
    period = 2 * n
    u = torch.remainder(u, period)
    return torch.where(u < n, u, period - 1 - u)
