"""Where bf16 autocast pays off: CUDA, and CPUs whose oneDNN has native bf16 (AVX-512 BF16, AMX).

On other CPUs bf16 is emulated and slower than fp32, so autocast stays off there.
"""

from __future__ import annotations

import functools

import torch


@functools.cache
def cpu_has_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def bf16_autocast_ok(device: torch.device) -> bool:
    if device.type == "cuda":
        return True
    return device.type == "cpu" and cpu_has_bf16()


def autocast(device: torch.device, enabled: bool = True) -> torch.autocast:
    """bf16 autocast for `device` when it helps (and `enabled`), a no-op context otherwise."""
    on = enabled and bf16_autocast_ok(device)
    return torch.autocast(device.type, dtype=torch.bfloat16 if on else torch.float32, enabled=on)
