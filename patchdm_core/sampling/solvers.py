"""DDIM sampling as a generator of Steps (Song et al. 2021, eq. 12), shape-agnostic.

The same function samples a canvas [B,3,H,W] and the latent codes [B,D]. A timestep *path* may go
up as well as down: a rise is a forward re-noising q(x_t' | x_t) (RePaint's resampling jumps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ..model.schedule import Schedule
from .noise import randn

EpsFn = Callable[[Tensor, Tensor], Tensor]  # (x_t [B,...], t [B] long) -> a fresh eps the sampler may overwrite
Project = Callable[[Tensor, int], Tensor]  # (x at level t, t) -> x with the known region imposed


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
) -> Iterator[Step]:
    """Denoise x (at level path[0]) down to t = -1, yielding a Step after every model evaluation.

    `path` defaults to schedule.ddim_timesteps(steps); eta = 0 is deterministic. `project(x, t)`
    runs after every transition (inpainting). Noise for eta > 0 and for upward jumps comes from
    `generator` only.
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
            eps = torch.sub(x, x0 * a_cur.sqrt(), out=eps).div_((1 - a_cur).sqrt())  # eps of the clipped x0
        sigma = eta * ((1 - a_next) / (1 - a_cur) * (1 - a_cur / a_next)).sqrt()
        x = torch.addcmul(eps.mul_((1 - a_next - sigma**2).clamp(min=0).sqrt()), x0, a_next.sqrt())
        if eta > 0 and t_next >= 0:
            x = x + sigma * randn(x.shape, generator, x.device)
        if project is not None:
            x = project(x, t_next)
        yield Step(index, total, t_next, x, x0)
        del x0, eps  # not alive while the next step evaluates the model
        index += 1
