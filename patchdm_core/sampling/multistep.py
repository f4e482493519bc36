"""Multistep solvers in the data-prediction form on the VP schedule: DPM-Solver++(2M) and (3M) (Lu et al.
2022), and UniPC (Zhao et al. 2023), a predictor-corrector that costs no more model evaluations.

alpha_t = sqrt(a_t), sigma_t = sqrt(1 - a_t), lambda_t = log(alpha_t / sigma_t); a step goes from level s
to level t with h = lambda_t - lambda_s > 0. With D0, D1, D2 the model's clean-sample predictions at the
last three levels (newest first), every solver here takes the exponential-integrator step

    x_t = (sigma_t / sigma_s) e^{-eta h} x_s + alpha_t (1 - e^{-(1 + eta) h}) D0 + alpha_t * (correction)

DPM-Solver++(2M):  correction = (1 - e^{-h}) (D0 - D1) / (2 r),   r = h_prev / h
DPM-Solver++(3M):  correction = phi2 d1 - phi3 d2, with phi2 = (e^{-h} - 1) / h + 1, phi3 = phi2 / h - 1/2 and
                   d1, d2 the first and second divided differences of D over lambda (k-diffusion's form);
                   eta > 0 adds sigma_t sqrt(1 - e^{-2 eta h}) z (the SDE solver, as for 2M).
UniPC (bh2):       the predictor extrapolates D through up to `order` past points with coefficients that
                   solve a small Vandermonde system in r_k = (lambda_k - lambda_s) / h; after the model is
                   evaluated at the predicted x_t, the corrector (UniC) redoes the same step with the new
                   prediction among the points, raising the order by one at no extra evaluation.
The step into the clean end (sigma = 0) is first order: x = D0. Upward moves of a RePaint path re-noise as
in DDIM and restart the history (its predictions belong to another chain).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ..model.schedule import Schedule
from .noise import randn
from .steps import EpsFn, Project, Step, X0Fn, evaluations, renoise


def _lam(a: float) -> float:
    """lambda = log(alpha / sigma) = 0.5 log(a / (1 - a))."""
    return 0.5 * (math.log(a) - math.log1p(-a))


@dataclass
class Point:
    """One model evaluation on the path: its clean-sample prediction and where it was made."""

    x0: Tensor
    lam: float
    a: float


Update = Callable[[Tensor, list[Point], float, float, torch.Generator | None, int], Tensor]
Correct = Callable[[Tensor, list[Point], Point, int], Tensor]


@torch.no_grad()
def _solve(
    update: Update,
    eps_fn: EpsFn,
    x: Tensor,
    schedule: Schedule,
    *,
    path: Sequence[int],
    eta: float,
    generator: torch.Generator | None,
    project: Project | None,
    clip_x0: bool,
    x0_fn: X0Fn | None,
    order: int,
    correct: Correct | None = None,
) -> Iterator[Step]:
    """The loop every multistep solver shares: evaluate, steer, (correct), step, project, yield."""
    if eta < 0:
        raise ValueError(f"eta must be >= 0, got {eta}")
    path = [*path, -1]
    total = evaluations(path)
    table = schedule.alphas_cumprod
    hist: list[Point] = []
    index, x_start, used = 0, x, 1  # x_start: the x the last step started from; used: that step's order
    for t_cur, t_next in zip(path, path[1:]):
        if t_next > t_cur:
            x = renoise(x, schedule, t_cur, t_next, generator, project)
            hist = []
            continue
        t_batch = torch.full((x.shape[0],), t_cur, dtype=torch.long, device=x.device)
        eps = eps_fn(x, t_batch).float()
        x0 = schedule.predict_x0(x, t_cur, eps)
        del eps
        if clip_x0:
            x0.clamp_(-1, 1)
        if x0_fn is not None:  # the data-prediction form takes the steered x0 as it is
            x0 = x0_fn(x0, t_cur)
        a_cur = float(table[t_cur])
        point = Point(x0, _lam(a_cur), a_cur)
        if correct is not None and hist:
            x = correct(x_start, hist, point, used)
            if project is not None:
                x = project(x, t_cur)
        hist = [*hist[-(max(order, 2) - 1) :], point]
        x_start = x
        if t_next < 0:  # into the clean end: sigma = 0, lambda = inf
            x = x0.clone()
        else:
            used = min(order, len(hist), total - index)  # lower orders to warm up and for the last steps
            x = update(x, hist, float(table[t_next]), eta, generator, used)
        if project is not None:
            x = project(x, t_next)
        yield Step(index, total, t_next, x, x0)
        index += 1


def _first_order(x: Tensor, s: Point, a_next: float, eta: float) -> tuple[Tensor, float, float]:
    """x_t without the correction, and (h, alpha_t): the DPM-Solver++ first-order (DDIM) step."""
    h = _lam(a_next) - s.lam
    keep = math.sqrt((1 - a_next) / (1 - s.a)) * math.exp(-eta * h)
    alpha = math.sqrt(a_next)
    return torch.add(x.mul(keep), s.x0, alpha=alpha * -math.expm1(-(1 + eta) * h)), h, alpha


def _noise(x: Tensor, a_next: float, h: float, eta: float, generator: torch.Generator | None) -> Tensor:
    if eta > 0:
        x.add_(randn(x.shape, generator, x.device), alpha=math.sqrt(1 - a_next) * math.sqrt(-math.expm1(-2 * eta * h)))
    return x


def _update_2m(x, hist, a_next, eta, generator, order):  # noqa: ANN001, ANN202 - an Update
    s = hist[-1]
    out, h, alpha = _first_order(x, s, a_next, eta)
    if order >= 2:
        r = (s.lam - hist[-2].lam) / h
        out.add_(s.x0 - hist[-2].x0, alpha=alpha * -math.expm1(-(1 + eta) * h) / (2 * r))
    return _noise(out, a_next, h, eta, generator)


def _update_3m(x, hist, a_next, eta, generator, order):  # noqa: ANN001, ANN202 - an Update
    s = hist[-1]
    out, h, alpha = _first_order(x, s, a_next, eta)
    h_eta = (1 + eta) * h
    phi2 = math.expm1(-h_eta) / h_eta + 1
    if order >= 2:
        r0 = (s.lam - hist[-2].lam) / h
        d1_0 = (s.x0 - hist[-2].x0) / r0
        if order >= 3:
            r1 = (hist[-2].lam - hist[-3].lam) / h
            d1_1 = (hist[-2].x0 - hist[-3].x0) / r1
            d2 = (d1_0 - d1_1) / (r0 + r1)
            d1 = d1_0 + d2 * r0
            out.add_(d1, alpha=alpha * phi2).add_(d2, alpha=-alpha * (phi2 / h_eta - 0.5))
        else:
            out.add_(d1_0, alpha=alpha * phi2)
    return _noise(out, a_next, h, eta, generator)


def _unipc_coefficients(rks: list[float], h: float, corrector: bool) -> list[float]:
    """UniPC-bh2's weights of the divided differences (Zhao et al. 2023, algorithm 2 with B(h) = e^h - 1
    in the data-prediction form); rks are the past points' (lambda_k - lambda_s) / h, then 1."""
    order = len(rks)
    hh = -h
    h_phi_k, factorial, b_h = math.expm1(hh) / hh - 1, 1, math.expm1(hh)
    rows, b = [], []
    for i in range(1, order + 1):
        rows.append([r ** (i - 1) for r in rks])
        b.append(h_phi_k * factorial / b_h)
        factorial *= i + 1
        h_phi_k = h_phi_k / hh - 1 / factorial
    if corrector:
        if order == 1:
            return [0.5]
        return torch.linalg.solve(
            torch.tensor(rows, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
        ).tolist()
    if order == 2:
        return [0.5]
    return torch.linalg.solve(_f64(rows)[:-1, :-1], _f64(b[:-1])).tolist()


def _f64(values: list) -> Tensor:
    return torch.tensor(values, dtype=torch.float64)


def _unipc_step(x: Tensor, hist: list[Point], lam_t: float, a_t: float, order: int, new: Point | None) -> Tensor:
    """One UniPC step from hist[-1]'s level to lambda_t: the predictor (new None) or the corrector."""
    s = hist[-1]
    h = lam_t - s.lam
    alpha, b_h = math.sqrt(a_t), math.expm1(-h)
    out = torch.add(x.mul(math.sqrt((1 - a_t) / (1 - s.a))), s.x0, alpha=-alpha * math.expm1(-h))
    past = hist[-order:-1][::-1]  # the points before s, newest first
    rks = [(p.lam - s.lam) / h for p in past] + [1.0]
    if new is None and order == 1:
        return out
    rhos = _unipc_coefficients(rks, h, corrector=new is not None)
    for rho, p, r in zip(rhos, past, rks):
        out.add_(p.x0 - s.x0, alpha=-alpha * b_h * rho / r)
    if new is not None:
        out.add_(new.x0 - s.x0, alpha=-alpha * b_h * rhos[-1])
    return out


def _update_unipc(x, hist, a_next, eta, generator, order):  # noqa: ANN001, ANN202 - an Update
    return _unipc_step(x, hist, _lam(a_next), a_next, order, None)


def _correct_unipc(x_start: Tensor, hist: list[Point], new: Point, order: int) -> Tensor:
    return _unipc_step(x_start, hist, new.lam, new.a, order, new)


def _sampler(update: Update, order: int, correct: Correct | None = None, stochastic: bool = True):
    """A solver function with ddim_sample's signature (path defaults to the log-SNR ladder)."""

    def sample(
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
        if eta > 0 and not stochastic:
            raise ValueError("UniPC is deterministic: use eta 0, or DPM++ 2M / 3M for a stochastic sampler")
        path = list(path) if path is not None else schedule.logsnr_timesteps(steps)
        kw = dict(path=path, eta=eta, generator=generator, project=project, clip_x0=clip_x0, x0_fn=x0_fn)
        return _solve(update, eps_fn, x, schedule, order=order, correct=correct, **kw)

    return sample


dpmpp_2m_sample = _sampler(_update_2m, 2)
dpmpp_3m_sample = _sampler(_update_3m, 3)
unipc_sample = _sampler(_update_unipc, 3, _correct_unipc, stochastic=False)
