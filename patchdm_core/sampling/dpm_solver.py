"""DPM-Solver++(2M) as a generator of Steps (Lu et al. 2022, "DPM-Solver++", Algorithm 2), shape-agnostic.

Data-prediction form on the VP schedule: alpha_t = sqrt(a_t), sigma_t = sqrt(1 - a_t),
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
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from ..model.schedule import Schedule
from .solvers import EpsFn, Project, Step, renoise


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
) -> Iterator[Step]:
    """Denoise x (at level path[0]) down to t = -1 with DPM-Solver++(2M); same contract as ddim_sample,
    but `path` defaults to the log-SNR ladder (schedule.logsnr_timesteps)."""
    from .noise import randn

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
