"""CPU thread policy, set once by every entry point before the first parallel op.

- OpenMP threads wait *passively* (sleep) at barriers: on a 2-core machine shared with one other busy
  process, spinning threads slow small ops down many times over. The package sets OMP_WAIT_POLICY on
  import (patchdm_core/__init__.py), before torch starts the OpenMP runtime.
- One compute thread per *physical* core (hyper-threads share a core's vector units).
- glibc keeps freed activation memory for reuse instead of unmapping it (allocator.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from .allocator import keep_freed_memory


def physical_cores() -> int:
    """Physical cores this process may use: (physical id, core id) pairs of /proc/cpuinfo, capped by the
    CPUs the process is allowed on; the logical count where that is unknown."""
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return allowed
    cores, phys = set(), "0"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            phys = value.strip()
        elif key == "core id":
            cores.add((phys, value.strip()))
    return max(1, min(allowed, len(cores) or allowed))


def configure(threads: int | None = None) -> str:
    """Use `threads` compute threads (0/None: one per physical core); returns the line to print at start."""
    import torch

    memory = keep_freed_memory()
    n = threads or physical_cores()
    torch.set_num_threads(n)
    source = "--threads" if threads else "one per physical core"
    wait = os.environ.get("OMP_WAIT_POLICY", "default").lower()
    return f"threads: {n} ({source}), OpenMP waits {wait}" + (f", {memory}" if memory else "")
