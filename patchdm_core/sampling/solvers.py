"""The solvers, as plain functions over an eps_fn (k-diffusion style): DDIM (Song et al. 2021, eq. 12) here, the
multistep DPM-Solver++(2M)/(3M) and UniPC in multistep.py, and the registry that picks one by name with the
ladder of noise levels it is meant to walk.

Every solver is shape-agnostic (the same function samples a canvas [B,3,H,W] and the latent codes [B,D]),
has ddim_sample's signature and yields a Step (steps.py) after every model evaluation. A timestep *path*
may go up as well as down: a rise is a forward re-noising q(x_t' | x_t) (RePaint's resampling jumps).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from ..model.schedule import Schedule
from .guidance import FULL_INTERVAL
from .multistep import dpmpp_2m_sample, dpmpp_3m_sample, unipc_sample
from .noise import randn
from .steps import EpsFn, Project, Step, X0Fn, evaluations, renoise, run

__all__ = [
    "EpsFn",
    "Project",
    "Step",
    "X0Fn",
    "run",
    "renoise",
    "ddim_sample",
    "dpmpp_2m_sample",
    "dpmpp_3m_sample",
    "unipc_sample",
    "SAMPLERS",
    "LABELS",
    "get_sampler",
    "ladder",
    "sampling_params",
]


@torch.no_grad()
def ddim_sample(
    eps_fn: EpsFn,
    x: Tensor,
    schedule: Schedule,
    *,
    steps: int = 50,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    project: Project | None = None,
    path: Sequence[int] | None = None,
    clip_x0: bool = True,
    x0_fn: X0Fn | None = None,
) -> Iterator[Step]:
    """Denoise x (at level path[0]) down to t = -1, yielding a Step after every model evaluation.

    `path` defaults to schedule.ddim_timesteps(steps); eta = 0 is deterministic. `project(x, t)`
    runs after every transition (inpainting); `x0_fn(x0, t)` steers every prediction of the clean
    sample (after clipping) and the step goes on from the steered one. Noise for eta > 0 and for
    upward jumps comes from `generator` only.
    """
    path = list(path) if path is not None else schedule.ddim_timesteps(steps)
    path.append(-1)
    total = evaluations(path)
    index = 0
    for t_cur, t_next in zip(path, path[1:]):
        if t_next > t_cur:
            x = renoise(x, schedule, t_cur, t_next, generator, project)
            continue
        a_cur, a_next = schedule.alpha_bar(t_cur, x), schedule.alpha_bar(t_next, x)
        t_batch = torch.full((x.shape[0],), t_cur, dtype=torch.long, device=x.device)
        eps = eps_fn(x, t_batch).float()
        x0 = schedule.predict_x0(x, t_cur, eps)
        if clip_x0:
            x0.clamp_(-1, 1)
        if x0_fn is not None:
            x0 = x0_fn(x0, t_cur)
        if clip_x0 or x0_fn is not None:
            eps = torch.sub(x, x0 * a_cur.sqrt(), out=eps).div_((1 - a_cur).sqrt())  # eps of the x0 kept
        sigma = eta * ((1 - a_next) / (1 - a_cur) * (1 - a_cur / a_next)).sqrt()
        x = torch.addcmul(eps.mul_((1 - a_next - sigma**2).clamp(min=0).sqrt()), x0, a_next.sqrt())
        if eta > 0 and t_next >= 0:
            x = x + sigma * randn(x.shape, generator, x.device)
        if project is not None:
            x = project(x, t_next)
        yield Step(index, total, t_next, x, x0)
        del x0, eps  # not alive while the next step evaluates the model
        index += 1


# -- by name ----------------------------------------------------------------------------------------

SAMPLERS = {"ddim": ddim_sample, "dpmpp-2m": dpmpp_2m_sample, "dpmpp-3m": dpmpp_3m_sample, "unipc": unipc_sample}
LABELS = {"ddim": "DDIM", "dpmpp-2m": "DPM++ 2M", "dpmpp-3m": "DPM++ 3M", "unipc": "UniPC"}  # A1111's names


def get_sampler(name: str):
    """The solver function called `name` (clear error for an unknown one)."""
    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}")
    return SAMPLERS[name]


def ladder(name: str, schedule: Schedule, steps: int, end: int = 0) -> list[int]:
    """The descending levels `name` visits in `steps` model evaluations: DDIM the official uniform
    stride; the multistep solvers even log-SNR steps (their extrapolation assumes similar h) down to
    level `end` (0: the last evaluation at the faintest noise)."""
    get_sampler(name)
    return schedule.ddim_timesteps(steps) if name == "ddim" else schedule.logsnr_timesteps(steps, end)


def sampling_params(settings: dict[str, object], mode: str = "feature") -> dict[str, object]:
    """PNG `parameters` entries (A1111 names) of PatchDM.settings(...) for a run in `mode`."""
    params = {
        "Steps": settings["steps"],
        "Sampler": LABELS[str(settings["sampler"])],
        "Guidance": settings["guidance"],
        "Eta": settings["eta"],
        "Mode": mode,
    }
    if mode == "feature":
        params["Grid"] = settings["grid"]
    if settings.get("ladder_end"):
        params["Ladder end"] = settings["ladder_end"]
    lo, hi = settings.get("guidance_interval") or FULL_INTERVAL
    if (lo, hi) != FULL_INTERVAL and settings["guidance"] != 1:
        params["Guidance interval"] = f"{lo}-{hi}"
    return params
