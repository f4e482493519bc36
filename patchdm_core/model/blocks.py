"""Building blocks of the ADM-style patch UNet: embeddings, ResBlock with AdaGN + global-code scale,
self-attention through scaled_dot_product_attention.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def sinusoidal(x: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """[N] float -> [N, dim] sinusoidal features (guided-diffusion's timestep embedding)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=x.device, dtype=torch.float32) / half)
    args = x.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def group_norm(channels: int, groups: int) -> nn.GroupNorm:
    g = math.gcd(channels, groups)
    return nn.GroupNorm(g, channels)


def norm_silu(
    norm: nn.GroupNorm, x: Tensor, scale: Tensor | None = None, shift: Tensor | None = None, mul: Tensor | None = None
) -> Tensor:
    """silu((norm(x) * (1 + scale) + shift) * (1 + mul)); scale, shift, mul [N, C, 1, 1] or None.

    On the CPU without autograd, in fp32 outside autocast (the sampler), everything after the group
    statistics is one affine map per (sample, channel): native_group_norm for the statistics (its output
    dropped), one addcmul, SiLU in place. Three passes over the activation and two new maps where the
    plain ops make five of each; on this network's wide, shallow maps such passes cost about as much as
    its convolutions. Training and autocast keep the plain ops: native_group_norm's mean and rstd carry
    no gradient, and autocast runs group norm in fp32 by itself.
    """
    plain = torch.is_grad_enabled() or x.device.type != "cpu" or x.dtype != torch.float32
    if plain or torch.is_autocast_enabled("cpu"):
        h = norm(x)
        if scale is not None:
            h = h * (1 + scale)
        if shift is not None:
            h = h + shift
        if mul is not None:
            h = h * (1 + mul)
        return F.silu(h)
    n, c, g = x.shape[0], x.shape[1], norm.num_groups
    _, mean, rstd = torch.ops.aten.native_group_norm(x, None, None, n, c, x[0, 0].numel(), g, norm.eps)
    a = rstd.repeat_interleave(c // g, dim=1) * norm.weight  # [N, G] -> [N, C]: y = a x + b
    b = norm.bias - mean.repeat_interleave(c // g, dim=1) * a
    if scale is not None:
        k = 1 + scale.view(n, c)
        a, b = a * k, b * k
    if shift is not None:
        b = b + shift.view(n, c)
    if mul is not None:
        k = 1 + mul.view(n, c)
        a, b = a * k, b * k
    return F.silu(torch.addcmul(b[:, :, None, None], x, a[:, :, None, None]), inplace=True)


def zero_module(m: nn.Module) -> nn.Module:
    for p in m.parameters():
        nn.init.zeros_(p)
    return m


class Emb(NamedTuple):
    """Per-patch conditioning, already passed through SiLU: every ResBlock projects it itself."""

    tp: Tensor  # [N, time_dim + pos_dim] time and position embedding (AdaGN scale/shift)
    z: Tensor  # [N, z_dim] global code (multiplicative scale)


class Embedder(nn.Module):
    """t, (y, x) position and the global code z -> Emb, with learned null tokens for guidance."""

    def __init__(self, time_dim: int, pos_dim: int, z_dim: int) -> None:
        super().__init__()
        self.time_dim, self.pos_dim = time_dim, pos_dim
        self.time_mlp = nn.Sequential(nn.Linear(64, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
        self.pos_mlp = nn.Sequential(nn.Linear(128, pos_dim), nn.SiLU(), nn.Linear(pos_dim, pos_dim))
        self.null_pos = nn.Parameter(torch.zeros(pos_dim))  # position dropped (CFG / training dropout)
        self.null_z = nn.Parameter(torch.zeros(z_dim))  # global code dropped

    def forward(self, t: Tensor, pos: Tensor, keep_pos: Tensor, z: Tensor, keep_z: Tensor) -> Emb:
        """t [N], pos [N,2], keep_pos [N] bool, z [N,z_dim], keep_z [N] bool -> Emb."""
        te = self.time_mlp(sinusoidal(t, 64))
        pe = self.pos_mlp(torch.cat([sinusoidal(pos[:, 0], 64), sinusoidal(pos[:, 1], 64)], dim=-1))
        pe = torch.where(keep_pos[:, None], pe, self.null_pos.to(pe.dtype))
        z = torch.where(keep_z[:, None], z.to(self.null_z.dtype), self.null_z)
        return Emb(F.silu(torch.cat([te, pe], dim=-1)), F.silu(z))


class Attention(nn.Module):
    """Spatial self-attention (pre-norm, residual) through SDPA."""

    def __init__(self, channels: int, heads: int, groups: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm = group_norm(channels, groups)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = zero_module(nn.Conv2d(channels, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w).unbind(1)
        out = F.scaled_dot_product_attention(q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2))
        return x + self.proj(out.transpose(-1, -2).reshape(b, c, h, w))


class ResBlock(nn.Module):
    """ADM ResBlock: h = norm(h)*(1+s)+b from time+position, then h*(1+c) from z (DiffAE two_cond).

    `resample` is "down" or "up" for the resblock_updown variant; `attention` appends self-attention.
    """

    def __init__(
        self,
        cin: int,
        cout: int,
        emb_dim: int,
        z_dim: int,
        *,
        groups: int,
        dropout: float = 0.0,
        resample: str | None = None,
        attention: bool = False,
        heads: int = 1,
    ) -> None:
        super().__init__()
        self.resample = resample
        self.norm1 = group_norm(cin, groups)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, 2 * cout)
        self.zproj = nn.Linear(z_dim, cout)
        self.norm2 = group_norm(cout, groups)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = zero_module(nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)
        self.attn = Attention(cout, heads, groups) if attention else None

    def _resample(self, x: Tensor) -> Tensor:
        if self.resample == "down":
            return F.avg_pool2d(x, 2)
        if self.resample == "up":
            return F.interpolate(x, scale_factor=2.0, mode="nearest")
        return x

    def forward(self, x: Tensor, emb: Emb) -> Tensor:
        h = self.conv1(self._resample(norm_silu(self.norm1, x)))
        x = self._resample(x)
        scale, shift = self.emb(emb.tp)[:, :, None, None].chunk(2, dim=1)
        h = norm_silu(self.norm2, h, scale, shift, self.zproj(emb.z)[:, :, None, None])
        h = self.conv2(self.dropout(h))
        h = self.skip(x) + h
        return self.attn(h) if self.attn is not None else h
