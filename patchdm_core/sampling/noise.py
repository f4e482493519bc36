"""Seeded noise: explicit generators only, drawn on the CPU then moved (same image on CPU and GPU).

Initial canvas noise is drawn per patch from (seed, row, col), so extending a canvas or
re-rolling a region leaves the noise of every other patch unchanged.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import torch
from torch import Tensor

_MASK64 = (1 << 64) - 1


def resolve_seed(seed: int) -> int:
    """-1 (or any negative) -> a fresh random seed, which the caller prints and saves."""
    return secrets.randbelow(2**31 - 1) if seed < 0 else seed


def randn(
    shape: Sequence[int],
    generator: torch.Generator | None,
    device: torch.device | str,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Standard normal noise drawn on the generator's device, then moved to `device`."""
    gen_device = generator.device if generator is not None else torch.device("cpu")
    return torch.randn(tuple(shape), generator=generator, device=gen_device, dtype=dtype).to(device)


def _mix(*values: int) -> int:
    """SplitMix64-style hash of a few integers -> a 63-bit seed."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = (h ^ (v & _MASK64)) * 0xBF58476D1CE4E5B9 & _MASK64
        h = (h ^ (h >> 31)) * 0x94D049BB133111EB & _MASK64
        h ^= h >> 29
    return h & ((1 << 63) - 1)


def patch_seed(seed: int, row: int, col: int) -> int:
    """The seed of the noise of patch (row, col); rows/cols may be negative (canvas grown up/left)."""
    return _mix(seed, row, col)


def patch_noise(
    seed: int,
    rows: int,
    cols: int,
    p: int,
    *,
    origin: tuple[int, int] = (0, 0),
    channels: int = 3,
    device: torch.device | str = "cpu",
) -> Tensor:
    """[1, channels, rows*p, cols*p] noise; patch (r, c) comes from patch_seed(seed, r0+r, c0+c)."""
    out = torch.empty(1, channels, rows * p, cols * p)
    gen = torch.Generator()
    for r in range(rows):
        for c in range(cols):
            gen.manual_seed(patch_seed(seed, origin[0] + r, origin[1] + c))
            out[0, :, r * p : (r + 1) * p, c * p : (c + 1) * p] = torch.randn(channels, p, p, generator=gen)
    return out.to(device)
