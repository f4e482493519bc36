"""DPM-Solver++(2M) against independent references: the exact probability-flow ODE of Gaussian data
(whose optimal denoiser and ODE solution are closed-form) and the law of its SDE samples."""

from __future__ import annotations

import math

import pytest
import torch

from patchdm_core.model.schedule import Schedule
from patchdm_core.sampling.solvers import ddim_sample, dpmpp_2m_sample, run

MU, S = 0.3, 0.5  # data x0 ~ N(MU, S^2) per coordinate


def gaussian_eps(schedule: Schedule):
    """The exact eps predictor of Gaussian data: E[x0 | x_t] = MU + a S^2 / (a^2 S^2 + s^2) (x_t - a MU)."""

    def eps(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        a = schedule.alpha_bar(t, x).double()
        alpha, sigma = a.sqrt(), (1 - a).sqrt()
        x = x.double()
        x0 = MU + alpha * S**2 / (alpha**2 * S**2 + sigma**2) * (x - alpha * MU)
        return ((x - alpha * x0) / sigma).float()

    return eps


def exact_flow(schedule: Schedule, x: torch.Tensor, t_from: int, t_to: int) -> torch.Tensor:
    """The probability-flow ODE maps level t_from to t_to keeping (x - alpha MU) / std_t fixed (Gaussian data)."""
    a0, a1 = float(schedule.alphas_cumprod[t_from]), float(schedule.alphas_cumprod[t_to])
    std = lambda a: math.sqrt(a * S**2 + 1 - a)
    return math.sqrt(a1) * MU + (x.double() - math.sqrt(a0) * MU) * std(a1) / std(a0)


def reference(schedule: Schedule, x: torch.Tensor, t_from: int) -> torch.Tensor:
    """Exact ODE down to t = 0, then the first-order step into the clean end that both solvers take."""
    x_0 = exact_flow(schedule, x, t_from, 0)
    eps = gaussian_eps(schedule)(x_0.float(), torch.zeros(1, dtype=torch.long)).double()
    return schedule.predict_x0(x_0, 0, eps)


def error(solver, steps: int, x: torch.Tensor, schedule: Schedule) -> float:
    path = schedule.logsnr_timesteps(steps)  # 999 .. 0, the same levels for both solvers
    out = run(solver(gaussian_eps(schedule), x.clone(), schedule, path=path, clip_x0=False))
    return float((out.double() - reference(schedule, x, 999)).abs().max())


def test_dpmpp_2m_converges_at_second_order_to_the_exact_ode_solution() -> None:
    s = Schedule.linear()
    x = torch.randn(64, generator=torch.Generator().manual_seed(0))
    dpm = {n: error(dpmpp_2m_sample, n, x, s) for n in (10, 20, 40)}
    ddim = {n: error(ddim_sample, n, x, s) for n in (10, 20, 40)}
    assert dpm[10] < ddim[10] / 4  # far more accurate at the same number of model evaluations
    assert dpm[20] / dpm[40] > 3.0  # second order: halving the step divides the error by ~4
    assert 1.5 < ddim[20] / ddim[40] < 2.6  # DDIM is first order (the reference is not DDIM's own limit)
    assert dpm[40] < 0.01


def test_sde_variant_samples_the_data_distribution() -> None:
    """eta = 1 is SDE-DPM-Solver++(2M): its samples of Gaussian data have the data's mean and spread."""
    s = Schedule.linear()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(20000, generator=gen)
    out = run(dpmpp_2m_sample(gaussian_eps(s), x, s, steps=50, eta=1.0, generator=gen, clip_x0=False))
    assert abs(float(out.mean()) - MU) < 0.02
    assert abs(float(out.std()) - S) < 0.02
    # and it is stochastic: another generator, another sample; the same generator, the same one
    again = run(dpmpp_2m_sample(gaussian_eps(s), x, s, steps=5, eta=1.0, generator=torch.Generator().manual_seed(2)))
    same = run(dpmpp_2m_sample(gaussian_eps(s), x, s, steps=5, eta=1.0, generator=torch.Generator().manual_seed(2)))
    assert torch.equal(again, same) and not torch.equal(again, run(dpmpp_2m_sample(gaussian_eps(s), x, s, steps=5)))


def test_dpmpp_with_an_oracle_returns_x0_and_yields_steps() -> None:
    s = Schedule.linear()
    x0 = torch.rand(2, 3, 8, 8) * 1.8 - 0.9
    oracle = lambda x, t: s.predict_eps(x, t, x0)
    steps = list(dpmpp_2m_sample(oracle, torch.randn(2, 3, 8, 8), s, steps=8))
    assert [st.index for st in steps] == list(range(8)) and steps[0].total == 8 and steps[-1].t == -1
    torch.testing.assert_close(steps[-1].x, x0, atol=1e-5, rtol=1e-5)


def test_jumps_renoise_and_restart_the_history() -> None:
    s = Schedule.linear()
    calls = []
    fn = lambda x, t: calls.append(int(t[0])) or torch.zeros_like(x)
    path = [900, 800, 900, 800, 700]  # one RePaint jump back up
    steps = list(dpmpp_2m_sample(fn, torch.randn(1, 4), s, path=path, generator=torch.Generator().manual_seed(0)))
    assert calls == [900, 900, 800, 700] and len(steps) == 4 and steps[0].total == 4


def test_negative_eta_is_refused() -> None:
    with pytest.raises(ValueError, match="eta"):
        run(dpmpp_2m_sample(lambda x, t: x, torch.zeros(1, 4), Schedule.linear(), steps=2, eta=-0.5))


def test_dpmpp_3m_and_unipc_converge_at_third_order() -> None:
    from patchdm_core.sampling.solvers import dpmpp_3m_sample, unipc_sample

    s = Schedule.linear()
    x = torch.randn(64, generator=torch.Generator().manual_seed(0))
    two = {n: error(dpmpp_2m_sample, n, x, s) for n in (16, 32)}
    for solver in (dpmpp_3m_sample, unipc_sample):
        err = {n: error(solver, n, x, s) for n in (16, 32)}
        assert err[16] < two[16] and err[32] < two[32] / 2, (solver, err, two)
        assert err[16] / err[32] > 5.0, (solver, err)  # third order: halving the step divides the error by ~8
    # the corrector raises UniPC's order by one at no extra evaluation (Zhao et al. 2023)
    assert error(unipc_sample, 32, x, s) < error(dpmpp_3m_sample, 32, x, s) / 10


def test_the_sampler_names_of_the_config_are_the_registry() -> None:
    from patchdm_core.model.config import SAMPLER_NAMES
    from patchdm_core.sampling.solvers import LABELS, SAMPLERS

    assert tuple(SAMPLERS) == SAMPLER_NAMES and set(LABELS) == set(SAMPLERS)
