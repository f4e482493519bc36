"""Image filters on tensors [N,C,H,W]: a separable Gaussian blur and a Laplacian pyramid with its inverse.

Editing blurs mask edges and fills with them and matches detail band by band; the evaluation compares
pictures per pyramid level (SWD). Nothing here knows about patches or models.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def gaussian_blur(x: Tensor, radius: int, pad_mode: str = "replicate") -> Tensor:
    """Separable Gaussian (sigma = radius / 2, truncated at `radius`) of every channel of x [N,C,H,W]."""
    sigma = radius / 2
    r = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-(r**2) / (2 * sigma**2))
    k = (k / k.sum()).repeat(x.shape[1], 1)
    c, n = x.shape[1], 2 * radius + 1
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode=pad_mode), k.view(c, 1, 1, n), groups=c)
    return F.conv2d(F.pad(x, (0, 0, radius, radius), mode=pad_mode), k.view(c, 1, n, 1), groups=c)


_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16


def _blur(x: Tensor) -> Tensor:
    c = x.shape[1]
    k = _BINOMIAL.to(x)
    x = F.conv2d(F.pad(x, (2, 2, 0, 0), mode="reflect"), k.view(1, 1, 1, 5).expand(c, 1, 1, 5), groups=c)
    return F.conv2d(F.pad(x, (0, 0, 2, 2), mode="reflect"), k.view(1, 1, 5, 1).expand(c, 1, 5, 1), groups=c)


def laplacian_pyramid(x: Tensor, min_size: int = 16) -> list[Tensor]:
    """[N,3,H,W] -> finest-first band-pass levels, the last one the low-pass residual."""
    levels = []
    while min(x.shape[-2:]) // 2 >= min_size:
        down = _blur(x)[..., ::2, ::2]
        up = F.interpolate(down, size=x.shape[-2:], mode="bilinear", align_corners=False)
        levels.append(x - up)
        x = down
    levels.append(x)
    return levels


def collapse(bands: list[Tensor]) -> Tensor:
    """The inverse of laplacian_pyramid: upsample the residual and add each band, coarse to fine."""
    x = bands[-1]
    for band in reversed(bands[:-1]):
        x = F.interpolate(x, size=band.shape[-2:], mode="bilinear", align_corners=False) + band
    return x


def resample_periodic(x: Tensor, length: int, dim: int) -> Tensor:
    """x resampled to `length` samples along `dim`, which is periodic (a tile's wrapped axis): Lanczos-3,
    widened when shrinking (antialiased), its taps wrapping around, so the result wraps as x did."""
    dim, n = dim % x.ndim, x.shape[dim]
    if n == length:
        return x
    scale = n / length
    stretch = max(scale, 1.0)  # a wider kernel when shrinking, so that nothing aliases
    centre = (torch.arange(length, dtype=torch.float64) + 0.5) * scale - 0.5  # output samples in input coordinates
    first = torch.floor(centre - 3 * stretch).long() + 1
    taps = first[:, None] + torch.arange(int(6 * stretch) + 1)  # [length, k]
    w = torch.special.sinc((taps - centre[:, None]) / stretch)
    w = w * torch.special.sinc((taps - centre[:, None]) / (3 * stretch))
    w = (w / w.sum(dim=1, keepdim=True)).to(x.dtype)
    shape = [1] * x.ndim
    shape[dim] = length
    out = None
    for k in range(taps.shape[1]):  # one tap at a time: never more than two output-sized tensors alive
        part = x.index_select(dim, (taps[:, k] % n).to(x.device)) * w[:, k].to(x.device).view(shape)
        out = part if out is None else out.add_(part)
    return out
