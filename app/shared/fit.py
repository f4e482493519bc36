"""Whether a job fits this server and this machine, said in one sentence before anything runs: the canvas
within --max-pixels, its work within --max-job-cost, and the memory it needs within what the machine has
free (estimated from the model's config as the command line does: patchdm_core.sampling.memory.job_bytes
and runtime.limits). A refusal names everything that is over, the time the job would take here, and the
largest canvas of the same shape that passes all three, with its time, so the user has a way forward.
"""

from __future__ import annotations

from typing import Any

from patchdm_core.runtime import checks, limits
from patchdm_core.runtime.sizes import round_up
from patchdm_core.sampling.memory import job_bytes

from .cost import Need, over_cap
from .imaging import InputError

CHUNK = 64  # patches per network call on a CPU (Painter.default_chunk), as the command line estimates it


def free_memory(studio: Any) -> int:
    """Bytes this machine has free now (Limits.free_memory overrides it: tests, a server that shares memory)."""
    given = getattr(studio.limits, "free_memory", None)
    return limits.available_memory() if given is None else int(given)


def memory_need(studio: Any, need: Need, width: int, height: int) -> int:
    """Bytes a width x height canvas of this job needs beyond the loaded model."""
    return job_bytes(studio.pipe.cfg, height, width, batch=need.batch, guided=need.guided, chunk=CHUNK)


def fits(studio: Any, need: Need, width: int, height: int, free: int) -> bool:
    """Whether a width x height canvas of this job passes all three limits."""
    p = studio.p
    gw, gh = round_up(width, p), round_up(height, p)
    if gw * gh > studio.limits.max_pixels:
        return False
    if gw * gh / 1e6 * need.unit > studio.limits.max_job_cost:
        return False
    return memory_need(studio, need, width, height) <= free


def largest(studio: Any, need: Need, free: int | None = None) -> tuple[int, int] | None:
    """The largest canvas of the need's shape (on the patch grid) that passes every limit, or None."""
    free = free_memory(studio) if free is None else free
    test = lambda w, h: fits(studio, need, w, h, free)  # noqa: E731
    return limits.largest_fitting(need.width, need.height, studio.p, test, studio.limits.max_pixels)


def refusal(studio: Any, need: Need) -> str | None:
    """The sentence that refuses this job, or None when it fits."""
    p, lim = studio.p, studio.limits
    if need.width < 1 or need.height < 1:
        return f"the {need.what} size must be positive, got {need.width}×{need.height}"
    gw, gh = round_up(need.width, p), round_up(need.height, p)
    free = free_memory(studio)
    problems = []
    if gw * gh > lim.max_pixels:
        problems.append(
            f"{checks.pixels(gw * gh)}, over the limit of {checks.pixels(lim.max_pixels)} "
            f"(--max-pixels {lim.max_pixels})"
        )
    cost = need.cost(p)
    if (clause := over_cap(cost, lim.max_job_cost)) is not None:
        about = need.about(studio)
        problems.append(f"{clause}, {about}" if about else clause)
    memory = memory_need(studio, need, need.width, need.height)
    if memory > free:
        problems.append(
            f"about {limits.gigabytes(memory)} of memory, more than the {limits.gigabytes(free)} this machine has free"
        )
    if not problems:
        return None
    sentence = f"the {need.what} {gw}×{gh} is too large here: " + "; ".join(problems)
    best = largest(studio, need, free)
    if best is None:
        return (
            sentence
            + "; not even one patch of this job fits: use fewer steps"
            + (" or a smaller batch" if need.batch > 1 else "")
        )
    about = need.about(studio, *best)
    fits_text = f"the largest {need.what} of this shape that fits is {best[0]}×{best[1]}"
    return f"{sentence}; {fits_text}" + (f" ({about})" if about else "")


def check(studio: Any, need: Need) -> None:
    """Raise InputError with the refusal when the job does not fit."""
    reason = refusal(studio, need)
    if reason is not None:
        raise InputError(reason)


def plan(studio: Any, need: Need, text: str) -> str:
    """A plan line: `text` and the time the job takes here, or the refusal."""
    reason = refusal(studio, need)
    if reason is not None:
        return f"⚠ {reason}"
    about = need.about(studio)
    return f"{text} · {about}" if about else f"{text} · time: measured after the first job"
