"""Quality metrics that need no pretrained network: seam score, wrap seam, grain (fine detail), streaks
(direction of the detail), the share of large smooth regions, and sliced Wasserstein distance (SWD)
between Laplacian-pyramid 7x7 neighbourhoods (Karras et al. 2018, appendix D), of the canvases and of
thumbnails of them (the layout of colour, which the full-size levels barely see)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..runtime.filters import laplacian_pyramid


def _as_float(img: Tensor) -> Tensor:
    """[1,3,H,W] / [3,H,W] in [-1,1] or uint8 [H,W,3] -> float [3,H,W] on a 0..255 scale."""
    if img.dtype == torch.uint8:
        return img.permute(2, 0, 1).float() if img.shape[-1] == 3 else img.float()
    img = img[0] if img.ndim == 4 else img
    return (img.float().clamp(-1, 1) + 1) * 127.5


def seam_score(img: Tensor, p: int) -> float:
    """Mean |difference| of adjacent pixels straddling a patch-grid line (columns/rows kp-1 | kp),
    divided by the same mean over all other adjacent pairs. 1.0 means the grid is invisible."""
    x = _as_float(img)
    dx = (x[:, :, 1:] - x[:, :, :-1]).abs().mean(dim=0)  # [H, W-1]: pair (k, k+1) at index k
    dy = (x[:, 1:, :] - x[:, :-1, :]).abs().mean(dim=0)  # [H-1, W]
    col_line = torch.zeros(dx.shape[1], dtype=torch.bool)
    col_line[p - 1 :: p] = True
    row_line = torch.zeros(dy.shape[0], dtype=torch.bool)
    row_line[p - 1 :: p] = True
    seam = torch.cat([dx[:, col_line].flatten(), dy[row_line, :].flatten()])
    rest = torch.cat([dx[:, ~col_line].flatten(), dy[~row_line, :].flatten()])
    if seam.numel() == 0:
        raise ValueError(f"a {x.shape[2]}x{x.shape[1]} image has no patch-grid line of patch size {p}")
    return float(seam.mean() / rest.mean().clamp(min=1e-8))


def lattice_score(img: Tensor, p: int) -> float:
    """How strongly a p-periodic grid of lines shows, wherever it sits: 1.0 = none.

    seam_score looks only at the canvas's own grid lines; a sampler that moves its grid leaves its
    seams elsewhere. Per axis, the mean |difference| of each adjacent column (row) pair is divided by
    the mean over its p-wide block; for every phase in [0, p) the median of that ratio over the
    blocks says how much the lines at that phase stand out *everywhere* (a single strong edge of the
    picture lifts one block, not the median). The score is the largest over phases and both axes."""
    x = _as_float(img)
    worst = 0.0
    for d in ((x[:, :, 1:] - x[:, :, :-1]).abs().mean(dim=(0, 1)), (x[:, 1:, :] - x[:, :-1, :]).abs().mean(dim=(0, 2))):
        blocks = d[: d.shape[0] // p * p].reshape(-1, p)  # [K, p]: pair (j, j+1) at [j // p, j % p]
        if blocks.shape[0] < 3:
            raise ValueError(f"a {x.shape[2]}x{x.shape[1]} image is too small for the lattice of patch size {p}")
        ratio = blocks / blocks.mean(dim=1, keepdim=True).clamp(min=1e-8)
        worst = max(worst, float(ratio.median(dim=0).values.max()))
    return worst


_LAPLACE = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def grain(img: Tensor, where: Tensor | None = None) -> float:
    """Fine detail: mean |Laplacian| (4-neighbour, 0..255 scale, channel mean), over the pixels where
    `where` [1,1,H,W] > 0.5 if given (the one-pixel frame is left out). Smooth wallpapers score a few
    units; a model that paints noise-like texture scores many times more than its training pictures."""
    x = _as_float(img)
    lap = F.conv2d(x[:, None], _LAPLACE.view(1, 1, 3, 3).to(x)).abs().mean(dim=0)[0]  # [H-2, W-2]
    if where is None:
        return float(lap.mean())
    m = where[0, 0, 1:-1, 1:-1] > 0.5
    if not m.any():
        raise ValueError("grain: the region is empty")
    return float(lap[m].mean())


def streaks(img: Tensor) -> float:
    """Direction of the detail: mean |horizontal difference| over mean |vertical difference| (channel
    mean). 1 = no preferred direction (most held-out wallpapers score 0.86-1.02); above 1, vertical streaks
    (a texture such as wood grain learned from a few pictures and painted everywhere); below, horizontal."""
    x = _as_float(img)
    dx = (x[:, :, 1:] - x[:, :, :-1]).abs().mean()
    dy = (x[:, 1:, :] - x[:, :-1, :]).abs().mean()
    return float(dx / dy.clamp(min=1e-8))


SMOOTH_SCALE = 8  # smooth_share looks at the picture shrunk 8x: strokes under 8 px do not count
SMOOTH_STEP = 4.0  # ... and calls a pixel smooth below this step to its neighbours (0..255 scale)


def smooth_share(img: Tensor, scale: int = SMOOTH_SCALE, step: float = SMOOTH_STEP) -> float:
    """The share of the picture in large smooth regions: shrunk `scale`x by area, the pixels whose larger
    step (channel mean, to the right or below) is under `step`. A steep clean sky gradient, 128 levels
    over 256 px, steps 4 at this scale; a field of 30-100 px paint blotches steps tens of units almost
    everywhere. Wallpapers with a few large shapes score high, textured colour fields low."""
    x = F.avg_pool2d(_as_float(img)[None], scale)[0]  # [3, H/scale, W/scale]
    if min(x.shape[-2:]) < 2:
        raise ValueError(f"smooth_share: the picture is under {2 * scale} px on a side")
    dx = (x[:, :-1, 1:] - x[:, :-1, :-1]).abs().mean(dim=0)
    dy = (x[:, 1:, :-1] - x[:, :-1, :-1]).abs().mean(dim=0)
    return float((torch.maximum(dx, dy) < step).float().mean())


def thumbnail(images: Tensor, long_side: int) -> Tensor:
    """[N,3,H,W] -> the whole canvases shrunk by area to `long_side` px on their long side (at least 8 px
    on the short one): the layout of colour without the texture (64 px: 64x32 for a 2:1 canvas)."""
    h, w = images.shape[-2:]
    scale = long_side / max(h, w)
    return F.interpolate(images.float(), size=(max(8, round(h * scale)), max(8, round(w * scale))), mode="area")


def palette_distance(a: Tensor, b: Tensor, samples: int = 8192, directions: int = 64, seed: int = 0) -> float:
    """How far apart the colours of two pictures are, wherever they sit: the earth mover's distance between
    their pixel colour distributions (0..255 scale), sliced (the mean 1-D distance along `directions`
    random directions of RGB space, on `samples` pixels of each). 0 for the same colours rearranged."""
    gen = torch.Generator().manual_seed(seed)
    x, y = (_as_float(v).reshape(3, -1).T for v in (a, b))  # [pixels, 3]
    x = x[torch.randint(0, len(x), (samples,), generator=gen)]
    y = y[torch.randint(0, len(y), (samples,), generator=gen)]
    dirs = torch.randn(3, directions, generator=gen)
    dirs = dirs / dirs.norm(dim=0, keepdim=True)
    return float(((x @ dirs).sort(dim=0).values - (y @ dirs).sort(dim=0).values).abs().mean())


def wrap_seam_score(img: Tensor, axes: str = "xy") -> float:
    """How visible the wrap-around seam of a tile is: |last - first| column (and row) differences over
    the mean of all interior adjacent differences."""
    x = _as_float(img)
    seam, rest = [], []
    if "x" in axes:
        seam.append((x[:, :, 0] - x[:, :, -1]).abs().mean(dim=0).flatten())
        rest.append((x[:, :, 1:] - x[:, :, :-1]).abs().mean(dim=0).flatten())
    if "y" in axes:
        seam.append((x[:, 0, :] - x[:, -1, :]).abs().mean(dim=0).flatten())
        rest.append((x[:, 1:, :] - x[:, :-1, :]).abs().mean(dim=0).flatten())
    return float(torch.cat(seam).mean() / torch.cat(rest).mean().clamp(min=1e-8))


def mask_seam_score(img: Tensor, keep: Tensor) -> float:
    """Mean |difference| of adjacent pixel pairs that cross the boundary of a keep mask [1,1,H,W],
    over the mean of all other adjacent pairs (1.0: the edit's border is invisible)."""
    x = _as_float(img)
    m = keep[0, 0] > 0.5
    dx, dy = (x[:, :, 1:] - x[:, :, :-1]).abs().mean(dim=0), (x[:, 1:, :] - x[:, :-1, :]).abs().mean(dim=0)
    cross_x, cross_y = m[:, 1:] != m[:, :-1], m[1:, :] != m[:-1, :]
    seam = torch.cat([dx[cross_x], dy[cross_y]])
    if seam.numel() == 0:
        raise ValueError("the mask has no boundary inside the picture")
    rest = torch.cat([dx[~cross_x], dy[~cross_y]])
    return float(seam.mean() / rest.mean().clamp(min=1e-8))


# -- sliced Wasserstein distance -------------------------------------------------------------------


def _descriptors(level: Tensor, per_image: int, generator: torch.Generator) -> Tensor:
    """Random 7x7 neighbourhoods of every image -> [N*per_image, 3*49]."""
    n, c, h, w = level.shape
    ys = torch.randint(0, h - 6, (n, per_image), generator=generator)
    xs = torch.randint(0, w - 6, (n, per_image), generator=generator)
    off = torch.arange(7)
    rows = (ys[..., None] + off)[..., :, None]  # [n, k, 7, 1]
    cols = (xs[..., None] + off)[..., None, :]  # [n, k, 1, 7]
    b = torch.arange(n)[:, None, None, None]
    patches = level.permute(0, 2, 3, 1)[b, rows, cols]  # [n, k, 7, 7, c]
    return patches.reshape(n * per_image, -1)


def _normalize(d: Tensor) -> Tensor:
    """Per-colour-channel zero mean and unit std over one descriptor set (each set on its own, as Karras et al.)."""
    d = d.reshape(d.shape[0], 49, 3)
    d = (d - d.mean(dim=(0, 1), keepdim=True)) / d.std(dim=(0, 1), keepdim=True).clamp(min=1e-8)
    return d.reshape(d.shape[0], -1)


def _swd(a: Tensor, b: Tensor, directions: int, generator: torch.Generator) -> float:
    n = min(len(a), len(b))
    a, b = a[torch.randperm(len(a), generator=generator)[:n]], b[torch.randperm(len(b), generator=generator)[:n]]
    dirs = torch.randn(a.shape[1], directions, generator=generator)
    dirs = dirs / dirs.norm(dim=0, keepdim=True)
    pa, pb = (a @ dirs).sort(dim=0).values, (b @ dirs).sort(dim=0).values
    return float((pa - pb).abs().mean())


def swd(
    fake: Tensor, real: Tensor, *, per_image: int = 128, directions: int = 512, seed: int = 0, min_size: int = 16
) -> dict[str, float]:
    """SWD per pyramid level (x1e3, as reported by Karras et al.; finest first) and their mean.

    fake, real: [N,3,H,W] in [-1,1], the same H and W. The pyramid stops when halving would take the short
    side under `min_size` (8 for thumbnails: 64x32 -> 64, 32 and 16 px levels).
    """
    if fake.shape[-2:] != real.shape[-2:]:
        raise ValueError("SWD compares images of the same size")
    gen = torch.Generator().manual_seed(seed)
    out = {}
    fl, rl = laplacian_pyramid(fake.float(), min_size), laplacian_pyramid(real.float(), min_size)
    for i, (f, r) in enumerate(zip(fl, rl)):
        df, dr = _normalize(_descriptors(f, per_image, gen)), _normalize(_descriptors(r, per_image, gen))
        out[f"level{i}_{f.shape[-1]}px"] = 1e3 * _swd(df, dr, directions, gen)
    out["mean"] = sum(out.values()) / len(out)
    return out
