"""Pure patch geometry: padding, patchify/unpatchify, feature collage and patch positions.

Patches are stored batch-major, row-major: a canvas [B, C, R*p, Q*p] becomes [B*R*Q, C, p, p] with
index (b*R + r)*Q + q. Feature collage (Patch-DM, section 3.2) re-assembles the per-patch feature
maps of a grid that is offset by half a patch, crops half a patch from every side and re-splits:
each new cell takes one quadrant from each of its four parents, so the decoder predicts the
image-aligned grid from features that straddle patch borders.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor


class Grid(NamedTuple):
    rows: int
    cols: int

    @property
    def cells(self) -> int:
        return self.rows * self.cols

    def shifted(self) -> Grid:
        """The grid that collage produces from this one (one fewer row and column)."""
        return Grid(self.rows - 1, self.cols - 1)


def pad_half_patch(x: Tensor, p: int, wrap: tuple[bool, bool] = (False, False)) -> Tensor:
    """[B,C,H,W] -> [B,C,H+p,W+p]: zeros (or wrap-around per axis (y, x)) of p/2 on every side."""
    h = p // 2
    if wrap[1]:
        x = torch.cat([x[..., -h:], x, x[..., :h]], dim=-1)
    else:
        x = F.pad(x, (h, h, 0, 0))
    if wrap[0]:
        x = torch.cat([x[..., -h:, :], x, x[..., :h, :]], dim=-2)
    else:
        x = F.pad(x, (0, 0, h, h))
    return x


def padded_band(x: Tensor, p: int, top: int, height: int, wrap: tuple[bool, bool] = (False, False)) -> Tensor:
    """Rows [top, top + height) of pad_half_patch(x, p, wrap), without building the padded canvas."""
    h, rows = p // 2, x.shape[-2]
    y0, y1 = top - h, top - h + height  # the band in image rows (may poke out of the image)
    if wrap[0]:
        band = x.index_select(-2, torch.arange(y0, y1, device=x.device) % rows)
    else:
        a, b = max(y0, 0), min(y1, rows)
        band = F.pad(x[..., a:b, :], (0, 0, a - y0, y1 - b))
    if wrap[1]:
        return torch.cat([band[..., -h:], band, band[..., :h]], dim=-1)
    return F.pad(band, (h, h, 0, 0))


def crop_half_patch(x: Tensor, p: int) -> Tensor:
    """Inverse of pad_half_patch: [B,C,H+p,W+p] -> [B,C,H,W]."""
    h = p // 2
    return x[..., h : x.shape[-2] - h, h : x.shape[-1] - h]


def to_patches(x: Tensor, p: int) -> Tensor:
    """[B,C,R*p,Q*p] -> [B*R*Q, C, p, p] (batch-major, row-major)."""
    b, c, hh, ww = x.shape
    if hh % p or ww % p:
        raise ValueError(f"canvas {ww}x{hh} is not a multiple of the patch size {p}")
    r, q = hh // p, ww // p
    return x.reshape(b, c, r, p, q, p).permute(0, 2, 4, 1, 3, 5).reshape(b * r * q, c, p, p)


def from_patches(patches: Tensor, grid: Grid) -> Tensor:
    """[B*R*Q, C, h, w] -> [B, C, R*h, Q*w] (inverse of to_patches)."""
    n, c, h, w = patches.shape
    r, q = grid
    b = n // (r * q)
    if b * r * q != n:
        raise ValueError(f"{n} patches do not fill a {r}x{q} grid")
    return patches.reshape(b, r, q, c, h, w).permute(0, 3, 1, 4, 2, 5).reshape(b, c, r * h, q * w)


def collage(feats: Tensor, grid: Grid) -> Tensor:
    """Feature collage: [B*R*Q, C, h, w] on an offset grid -> [B*(R-1)*(Q-1), C, h, w] shifted by h/2."""
    h, w = feats.shape[-2:]
    if h != w or h % 2:
        raise ValueError(f"feature maps of {h}x{w} cannot be collaged (square, even side needed)")
    v = feats.reshape(feats.shape[0] // grid.cells, grid.rows, grid.cols, *feats.shape[1:])
    return collage_band(v[:, :1], v[:, 1:])


def collage_band(prev: Tensor, cur: Tensor) -> Tensor:
    """Collage of a streamed band: `prev` [B, 1, Q, C, s, s] (the row above) and `cur` [B, k, Q, C, s, s]
    (encoder features of k padded rows) -> the k x (Q-1) shifted cells, [B*k*(Q-1), C, s, s].

    Equals collage(cat([prev, cur], 1).flatten(0, 2), Grid(k + 1, Q)), but gathers the four
    quadrants straight into one channels_last tensor (the layout the CPU and GPU convolutions run
    in): one pass over the features instead of the cat / un-patch / crop / re-patch copies, and no
    layout conversion in front of the decoder.
    """
    b, k, q, c, s, _ = cur.shape
    m = s // 2
    out = torch.empty(b, k, q - 1, s, s, c, dtype=cur.dtype, device=cur.device).permute(0, 1, 2, 5, 3, 4)
    if k == 0:  # a one-row grid has no shifted cells
        return out.reshape(0, c, s, s)
    # top halves come from the row above each output row: `prev` for the first, `cur` for the rest
    for rows, src in ((slice(0, 1), prev), (slice(1, k), cur[:, : k - 1])):
        out[:, rows, :, :, :m, :m] = src[:, :, :-1, :, m:, m:]
        out[:, rows, :, :, :m, m:] = src[:, :, 1:, :, m:, :m]
    out[..., m:, :m] = cur[:, :, :-1, :, :m, m:]
    out[..., m:, m:] = cur[:, :, 1:, :, :m, :m]
    return out.reshape(b * k * (q - 1), c, s, s)


def grid_positions(grid: Grid, origin: Tensor, shifted: bool = False) -> Tensor:
    """Patch-centre coordinates in patch units, [B*R*Q, 2] as (y, x).

    `origin` [B, 2] is the centre of each image's top-left cell. Cells of the half-patch-padded
    grid sit at integers (k, l) of the image (the pad ring at 0); image-aligned cells sit at
    (k + 0.5, l + 0.5), the official convention. `shifted=True` gives the cells collage produces.
    """
    r, q = grid
    if shifted:
        r, q = r - 1, q - 1
    ys = torch.arange(r, dtype=torch.float32, device=origin.device)
    xs = torch.arange(q, dtype=torch.float32, device=origin.device)
    cells = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), dim=-1).reshape(1, r * q, 2)
    offset = 0.5 if shifted else 0.0
    return (origin.float().reshape(-1, 1, 2) + offset + cells).reshape(-1, 2)
