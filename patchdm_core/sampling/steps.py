"""What every solver shares: the Step it yields after each model evaluation, the function types of its hooks,
`run` that exhausts a sampling generator, and the RePaint re-noising of a path that goes back up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


def evaluations(path: list[int]) -> int:
    """Model evaluations of a path that ends at the clean end (-1): one per downward move."""
    return sum(1 for a, b in zip(path, path[1:]) if b < a)
