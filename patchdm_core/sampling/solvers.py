"""The solvers, as plain functions over an eps_fn (k-diffusion style): DDIM (Song et al. 2021, eq. 12) and
DPM-Solver++(2M) (Lu et al. 2022), the Step they yield after every model evaluation, and the registry
that picks one by name with the ladder of noise levels it is meant to walk.

Every solver is shape-agnostic (the same function samples a canvas [B,3,H,W] and the latent codes
[B,D]) and has ddim_sample's signature. A timestep *path* may go up as well as down: a rise is a
forward re-noising q(x_t' | x_t) (RePaint's resampling jumps).

DPM-Solver++(2M), in the data-prediction form on the VP schedule: alpha_t = sqrt(a_t), sigma_t = sqrt(1 - a_t),
lambda_t = log(alpha_t / sigma_t), h = lambda_next - lambda_cur. With D the second-order
(multistep) estimate of the clean sample from the last two predictions x0, x0_prev,

    D      = x0 + (x0 - x0_prev) / (2 r),   r = h_prev / h         (D = x0 on the first step)
    x_next = (sigma_next / sigma_cur) e^{-eta h} x
             + alpha_next (1 - e^{-(1 + eta) h}) D
             + sigma_next sqrt(1 - e^{-2 eta h}) z,                 z ~ N(0, I)

eta = 0 is the ODE solver of the paper (eq. 2M); eta = 1 the SDE solver of its section 5
(SDE-DPM-Solver++(2M), whose first-order step is the DDPM posterior). The step into the clean
end (sigma = 0) is first order: x = x0. Upward moves of a RePaint path re-noise as in DDIM and
restart the multistep history (its last prediction belongs to another chain).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ..model.schedule import Schedule
from .noise import randn

EpsFn = Callable[[Tensor, Tensor], Tensor]  # (x_t [B,...], t [B] long) -> a fresh eps the sampler may overwrite
Project = Callable[[Tensor, int], Tensor]  # (x at level t, t) -> x with the known region imposed
X0Fn = Callable[[Tensor, int], Tensor]  # (predicted clean sample, t) -> a steered one (palette.py), may be in place


@dataclass
class Step:
    index: int  # 0..total-1, counts model evaluations
    total: int
    t: int  # the level x is now at (-1 = clean)
    x: Tensor  # x_t after this step
    x0: Tensor  # the model's prediction of the clean sample, for previews


def run(steps: Iterator[Step]) -> Tensor:
    """Exhaust a sampling generator and return the final sample (holding no more than one x)."""
    final = None
    for step in steps:
        final = step.x  # the sampler's next input anyway; the rest of the Step is dropped
        del step
    if final is None:
        raise ValueError("the sampler produced no steps")
    return final


def renoise(
    x: Tensor, schedule: Schedule, t_cur: int, t_next: int, generator: torch.Generator | None, project: Project | None
) -> Tensor:
    """A RePaint jump: forward diffusion q(x_t_next | x_t_cur) up the ladder (t_next > t_cur), then `project`."""
    ratio = schedule.alpha_bar(t_next, x) / schedule.alpha_bar(t_cur, x)
    x = ratio.sqrt() * x + (1 - ratio).sqrt() * randn(x.shape, generator, x.device)
    return project(x, t_next) if project is not None else x


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
    total = sum(1 for a, b in zip(path, path[1:]) if b < a)
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


@torch.no_grad()
def dpmpp_2m_sample(
    eps_fn: EpsFn,
    x: Tensor,
    schedule: Schedule,
    *,
    steps: int = 20,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    project: Project | None = None,
    path: Sequence[int] | None = None,
    clip_x0: bool = True,
    x0_fn: X0Fn | None = None,
) -> Iterator[Step]:
    """Denoise x (at level path[0]) down to t = -1 with DPM-Solver++(2M); same contract as ddim_sample,
    but `path` defaults to the log-SNR ladder (schedule.logsnr_timesteps)."""
    if eta < 0:
        raise ValueError(f"eta must be >= 0, got {eta}")
    path = list(path) if path is not None else schedule.logsnr_timesteps(steps)
    path.append(-1)
    total = sum(1 for a, b in zip(path, path[1:]) if b < a)
    a_table = schedule.alphas_cumprod
    index, x0_prev, h_prev = 0, None, None
    for t_cur, t_next in zip(path, path[1:]):
        if t_next > t_cur:
            x = renoise(x, schedule, t_cur, t_next, generator, project)
            x0_prev = h_prev = None
            continue
        t_batch = torch.full((x.shape[0],), t_cur, dtype=torch.long, device=x.device)
        eps = eps_fn(x, t_batch).float()
        x0 = schedule.predict_x0(x, t_cur, eps)
        del eps
        if clip_x0:
            x0.clamp_(-1, 1)
        if x0_fn is not None:  # the data-prediction form takes the steered x0 as it is
            x0 = x0_fn(x0, t_cur)
        a_cur = float(a_table[t_cur])
        if t_next < 0:  # into the clean end: sigma = 0, lambda = inf
            x = x0.clone()
        else:
            a_next = float(a_table[t_next])
            lam_cur, lam_next = _lam(a_cur), _lam(a_next)
            h = lam_next - lam_cur
            sig_cur, sig_next = math.sqrt(1 - a_cur), math.sqrt(1 - a_next)
            keep = sig_next / sig_cur * math.exp(-eta * h)
            gain = math.sqrt(a_next) * -math.expm1(-(1 + eta) * h)
            if x0_prev is None:
                d = x0
            else:
                d = torch.lerp(x0, x0_prev, -1 / (2 * (h_prev / h)))  # x0 + (x0 - x0_prev) / (2r)
            x = torch.add(x.mul(keep), d, alpha=gain)
            if eta > 0:
                x.add_(randn(x.shape, generator, x.device), alpha=sig_next * math.sqrt(-math.expm1(-2 * eta * h)))
            h_prev = h
        if project is not None:
            x = project(x, t_next)
        x0_prev = x0
        yield Step(index, total, t_next, x, x0)
        index += 1


def _lam(a: float) -> float:
    """lambda = log(alpha / sigma) = 0.5 log(a / (1 - a))."""
    return 0.5 * (math.log(a) - math.log1p(-a))


# -- by name ----------------------------------------------------------------------------------------

SAMPLERS = {"ddim": ddim_sample, "dpmpp-2m": dpmpp_2m_sample}
LABELS = {"ddim": "DDIM", "dpmpp-2m": "DPM++ 2M"}  # as PNG `parameters` name them (A1111 style)


def get_sampler(name: str):
    """The solver function called `name` (clear error for an unknown one)."""
    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}")
    return SAMPLERS[name]


def ladder(name: str, schedule: Schedule, steps: int) -> list[int]:
    """The descending levels `name` visits in `steps` model evaluations: DDIM the official uniform
    stride; DPM-Solver++(2M) even log-SNR steps (its multistep extrapolation assumes similar h)."""
    get_sampler(name)
    return schedule.logsnr_timesteps(steps) if name == "dpmpp-2m" else schedule.ddim_timesteps(steps)


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
    return params
