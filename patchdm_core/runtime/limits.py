"""What this machine can do, checked before a job starts: free memory for a canvas, CPUs for threads, and the
length of a path the file system takes. Each check raises ValueError with a sentence for the user (the CLI's
`error:` line, the app's status), as checks.py does, and says what would work instead.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from .sizes import round_up

NAME_MAX = 255  # bytes in one file name on Linux, macOS and Windows file systems alike
PATH_MAX = 4096  # bytes in a whole path on Linux


def available_memory() -> int:
    """Bytes this machine can still give a process: MemAvailable (Linux), else all physical memory."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 62  # unknown: do not refuse


def gigabytes(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n < 100e9 else f"{n / 1e9:,.0f} GB".replace(",", " ")


def largest_fitting(
    width: int, height: int, p: int, fits: Callable[[int, int], bool], max_pixels: int | None = None
) -> tuple[int, int] | None:
    """The largest canvas of width x height's shape, on the p-px grid, for which `fits(w, h)` holds and that is
    within `max_pixels`; None when not even one patch high or wide fits."""

    def at(scale: float) -> tuple[int, int]:
        return max(p, int(width * scale) // p * p), max(p, int(height * scale) // p * p)

    def ok(size: tuple[int, int]) -> bool:
        return fits(*size) and (max_pixels is None or size[0] * size[1] <= max_pixels)

    if not ok(at(p / max(width, height))):
        return None
    lo, hi = p / max(width, height), 1.0
    for _ in range(40):  # bisection on the scale: need grows with the area
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ok(at(mid)) else (lo, mid)
    return at(lo)


def memory(
    width: int,
    height: int,
    p: int,
    need_at: Callable[[int, int], int],
    what: str = "canvas",
    max_pixels: int | None = None,
    available: int | None = None,
) -> None:
    """A width x height job fits in the memory this machine has free (`need_at(w, h)` bytes), or ValueError
    saying how much it would need and the largest canvas of its shape that fits."""
    free = available_memory() if available is None else available
    need = need_at(width, height)
    if need <= free:
        return
    gw, gh = round_up(width, p), round_up(height, p)
    best = largest_fitting(width, height, p, lambda w, h: need_at(w, h) <= free, max_pixels)
    hint = f"; the largest {what} of this shape that fits is {best[0]}×{best[1]}" if best else ""
    raise ValueError(
        f"the {what} {gw}×{gh} would need about {gigabytes(need)} of memory, more than the "
        f"{gigabytes(free)} this machine has free{hint}"
    )


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask), the most compute threads worth starting."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def thread_count(value: object) -> int:
    """--threads: 0 (one per physical core) up to the CPUs this process may use; more only queue on the same
    cores, and a few hundred fail to start at all (libgomp: "Thread creation failed")."""
    from .checks import number

    cpus = usable_cpus()
    n = number("threads", value, integer=True, lo=0)
    if n > cpus:
        raise ValueError(f"threads must be 0 (one per physical core) to {cpus}, the CPUs this machine gives, got {n}")
    return n


def threads_arg(text: str) -> int:
    """argparse `type=` for --threads (thread_count)."""
    try:
        return thread_count(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def path_length(path: str | Path, what: str = "path") -> Path:
    """A path the file system can hold: no name over NAME_MAX bytes, the whole under PATH_MAX (longer ones fail
    only when the file is opened, with 'File name too long', after all the work)."""
    text = os.fsencode(str(path))
    if len(text) >= PATH_MAX:
        raise ValueError(f"the {what} is {len(text)} bytes long; paths hold at most {PATH_MAX - 1}")
    for name in Path(str(path)).parts:
        size = len(os.fsencode(name))
        if size > NAME_MAX:
            raise ValueError(
                f"the {what} has a name of {size} bytes ({name[:24]}…); file names hold at most {NAME_MAX}"
            )
    return Path(path)
