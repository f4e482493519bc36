"""Host memory policy: freed tensor memory stays in the process for the next tensor of the band.

The sampler allocates and frees the same few-MiB activation maps thousands of times per step. glibc
hands large freed blocks back to the kernel (munmap, or a trim of the heap top once more than twice its
dynamic mmap threshold is free), so every activation was written into freshly mapped pages: 4.3-4.6 M
page faults and 9-12 s of kernel time in one default 1024x512 generate on a 2-core Xeon, where a SiLU
over a 9 MiB map cost 3 ms instead of under 1. Raising the mmap threshold to its ceiling (32 MiB) and
the trim threshold keeps those blocks on the heap for reuse (0.19 M faults, 2.2 s). The pictures are
bit for bit the same; peak memory grows a little (2048x1024: 1.25 GB before, 1.29-1.34 GB with it).

Applied by the entry points (threads.configure), not on import: a library should not change the
allocator of a host application. The user's own MALLOC_*_ variables or glibc.malloc tunables win (glibc
reads them itself; setting any one of them also freezes its mmap threshold at 128 KiB: MALLOC_TOP_PAD_
alone made training 1.7x slower here).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20  # glibc's ceiling on 64-bit; blocks above it still come from mmap
TRIM_THRESHOLD = 512 << 20  # free space at the top of the heap kept before it is given back
TOP_PAD = 64 << 20  # extra asked of the kernel each time the heap grows
USER_KNOBS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


def glibc() -> bool:
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def keep_freed_memory() -> str:
    """Tune glibc malloc for reuse; returns the words for the start line ("" where nothing was changed)."""
    if not glibc():
        return ""
    if any(k in os.environ for k in USER_KNOBS) or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return "malloc as set in the environment"
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = all(
            libc.mallopt(param, value)
            for param, value in (
                (M_MMAP_THRESHOLD, MMAP_THRESHOLD),
                (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
                (M_TOP_PAD, TOP_PAD),
            )
        )
    except (OSError, AttributeError):
        return ""
    return "freed memory kept for reuse" if ok else ""
