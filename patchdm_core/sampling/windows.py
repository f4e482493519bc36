"""The comparison modes of the canvas denoiser, which run the plain network (no feature collage) on p x p
windows: `naive` (the aligned patches, independently), `pixel` (naive, on odd calls over the canvas
shifted by half a patch) and `sliding` (MultiDiffusion-style overlapping windows at a stride, their
predictions averaged). They exist for the paper's ablation and for peer comparison."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

# (patches [n,3,p,p], image index [n], window centres [n,2] in patch units) -> eps [n,3,p,p] float32
PlainNet = Callable[[Tensor, Tensor, Tensor], Tensor]


def window_eps(net: PlainNet, x: Tensor, p: int, stride: int, chunk: int, offset: float = 0.0) -> Tensor:
    """Plain network on p x p windows of x [B,C,H,W] at `stride`, at most `chunk` per call, averaged where
    they overlap. `offset` (patch units) moves every window's position, for a canvas that was padded."""
    b, c, h, w = x.shape
    ys, xs = starts(h, p, stride), starts(w, p, stride)
    total = torch.zeros(b, c, h, w, dtype=torch.float32, device=x.device)
    count = torch.zeros(1, 1, h, w, dtype=torch.float32, device=x.device)
    for y in ys:
        for x0 in xs:
            count[..., y : y + p, x0 : x0 + p] += 1
    windows = [(i, y, x0) for i in range(b) for y in ys for x0 in xs]
    for s in range(0, len(windows), chunk):
        batch = windows[s : s + chunk]
        patches = torch.stack([x[i, :, y : y + p, x0 : x0 + p] for i, y, x0 in batch])
        index = torch.tensor([i for i, _, _ in batch])
        # centre of the window in patch units: an aligned cell k sits at k + 0.5
        pos = torch.tensor([[y / p + 0.5 + offset, x0 / p + 0.5 + offset] for _, y, x0 in batch])
        eps = net(patches, index, pos).to(x.device)
        for (i, y, x0), e in zip(batch, eps):
            total[i, :, y : y + p, x0 : x0 + p] += e
    return total / count


def starts(n: int, p: int, stride: int) -> list[int]:
    """Window origins covering [0, n): every `stride`, plus a last one flush with the end."""
    if stride < 1:
        raise ValueError("stride must be at least 1 pixel")
    out = list(range(0, n - p + 1, stride))
    if out[-1] != n - p:
        out.append(n - p)
    return out
