"""Conditioning of a canvas (global code, position on/off) and classifier-free guidance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from .steps import EpsFn


@dataclass(frozen=True)
class Cond:
    z: Tensor  # [B, z_dim] global semantic code (ignored where keep_z is False)
    keep_z: Tensor  # [B] bool; False -> the learned null code
    keep_pos: Tensor  # [B] bool; False -> the learned null position

    @classmethod
    def make(cls, z: Tensor | None, batch: int, z_dim: int, device: torch.device | str) -> Cond:
        """Condition on z (or on nothing when z is None) with positions on."""
        keep_z = torch.full((batch,), z is not None, dtype=torch.bool, device=device)
        z = z.to(device) if z is not None else torch.zeros(batch, z_dim, device=device)
        return cls(z, keep_z, torch.ones(batch, dtype=torch.bool, device=device))

    @property
    def batch(self) -> int:
        return self.z.shape[0]

    def null(self) -> Cond:
        """Unconditional: global code AND position dropped together, as the official sampler."""
        off = torch.zeros_like(self.keep_z)
        return Cond(self.z, off, off)

    @staticmethod
    def cat(a: Cond, b: Cond) -> Cond:
        return Cond(torch.cat([a.z, b.z]), torch.cat([a.keep_z, b.keep_z]), torch.cat([a.keep_pos, b.keep_pos]))


CondEpsFn = Callable[[Tensor, Tensor, Cond], Tensor]  # (x_t, t, cond) -> eps


FULL_INTERVAL = (0, 999)  # timesteps guided by default: all of them (the paper's sampler)


def cfg(model: CondEpsFn, cond: Cond, scale: float, interval: tuple[int, int] | None = None) -> EpsFn:
    """Bind cond; scale 1 makes one call, otherwise one batched call on [null; cond] and u + s (c - u).

    `interval` = (lo, hi) guides only the levels lo <= t <= hi and makes one conditional call elsewhere
    (Kynkaanniemi et al. 2024: guidance at high noise pushes every canvas towards the same layout, and at low
    noise it changes little; limiting it to the middle saves the unguided pass where it does not pay)."""
    one = lambda x, t: model(x, t, cond)
    if scale == 1.0:
        return one
    both = Cond.cat(cond.null(), cond)

    def guided(x: Tensor, t: Tensor) -> Tensor:
        # expand is a view: no copy of the canvas; lerp_ blends in place (u + s (c - u) for any s)
        u, c = model(
            x.expand(2 * x.shape[0], *x.shape[1:]) if x.shape[0] == 1 else torch.cat([x, x]), torch.cat([t, t]), both
        ).chunk(2)
        return u.lerp_(c, scale)

    if interval is None or tuple(interval) == FULL_INTERVAL:
        return guided
    lo, hi = interval

    def limited(x: Tensor, t: Tensor) -> Tensor:
        return guided(x, t) if lo <= int(t[0]) <= hi else one(x, t)  # one level per call: the solvers' t

    return limited


def guided_passes(levels: list[int], scale: float, interval: tuple[int, int] | None = None) -> int:
    """Network passes over the canvas that `levels` (one per model evaluation) cost under cfg(...)."""
    if scale == 1.0:
        return len(levels)
    lo, hi = interval or FULL_INTERVAL
    return sum(2 if lo <= t <= hi else 1 for t in levels)
