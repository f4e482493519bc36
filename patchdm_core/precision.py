"""Where bf16 autocast pays off: CUDA, and CPUs that compute bf16 natively (AVX-512 BF16 or AMX-BF16).

On other CPUs bf16 is emulated and slower than fp32 (a demo step at 1024x512 on a Xeon without it:
4.13 s with autocast, 2.52 s without), so autocast stays off there. The answer comes from the CPU's
own feature flags: oneDNN's `_is_mkldnn_bf16_supported()` also says yes where bf16 is only emulated.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path

import torch

NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # Linux /proc/cpuinfo names


def cpu_flags() -> set[str]:
    """The CPU feature flags the kernel reports (empty where there is no /proc/cpuinfo)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


@functools.cache
def cpu_has_bf16() -> bool:
    """Native bf16 on this CPU: an AVX-512 BF16 or AMX-BF16 flag (x86), or Apple silicon (arm64 macOS)."""
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        return True
    return any(flag in cpu_flags() for flag in NATIVE_BF16_FLAGS)


def bf16_autocast_ok(device: torch.device) -> bool:
    if device.type == "cuda":
        return True
    return device.type == "cpu" and cpu_has_bf16()


def autocast(device: torch.device, enabled: bool = True) -> torch.autocast:
    """bf16 autocast for `device` when it helps (and `enabled`), a no-op context otherwise."""
    on = enabled and bf16_autocast_ok(device)
    return torch.autocast(device.type, dtype=torch.bfloat16 if on else torch.float32, enabled=on)
