from __future__ import annotations

import pytest
import torch

from patchdm_core.model.schedule import Schedule
from patchdm_core.sampling.guidance import Cond, cfg
from patchdm_core.sampling.solvers import ddim_sample, run


def test_ddim_timesteps_spacing() -> None:
    s = Schedule.linear()
    assert s.ddim_timesteps(50) == list(range(980, -1, -20))
    assert s.ddim_timesteps(25)[:2] == [960, 920] and s.ddim_timesteps(25)[-1] == 0
    assert s.ddim_timesteps(1) == [0]
    with pytest.raises(ValueError):
        s.ddim_timesteps(0)


def test_schedule_is_decreasing_and_invertible() -> None:
    s = Schedule.linear()
    assert (s.alphas_cumprod[1:] < s.alphas_cumprod[:-1]).all()
    x0, noise = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    xt = s.q_sample(x0, torch.tensor([10, 900]), noise)
    torch.testing.assert_close(s.predict_x0(xt, torch.tensor([10, 900]), noise), x0, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(s.predict_eps(xt, torch.tensor([10, 900]), x0), noise, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("shape", [(1, 3, 8, 8), (4, 16)])
@pytest.mark.parametrize("eta", [0.0, 0.7])
def test_ddim_with_an_oracle_returns_x0(shape, eta: float) -> None:
    s = Schedule.linear()
    x0 = torch.rand(shape) * 1.8 - 0.9
    oracle = lambda x, t: s.predict_eps(x, t, x0)
    steps = list(
        ddim_sample(oracle, torch.randn(shape), s, steps=10, eta=eta, generator=torch.Generator().manual_seed(0))
    )
    assert len(steps) == 10 and [st.index for st in steps] == list(range(10)) and steps[-1].t == -1
    torch.testing.assert_close(steps[-1].x, x0, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(steps[0].x0, x0, atol=1e-4, rtol=1e-4)


def test_ddim_matches_euler_in_sigma_space() -> None:
    """DDIM (eta 0) is Euler on x/sqrt(a) in sigma = sqrt((1-a)/a); catches alpha off-by-ones."""
    s = Schedule.linear()
    eps_const = torch.full((1, 4), 0.3)
    x = torch.randn(1, 4)
    path = s.ddim_timesteps(5)
    out = run(ddim_sample(lambda x, t: eps_const.clone(), x, s, steps=5, clip_x0=False))
    sig = lambda t: ((1 - s.alphas_cumprod[t]) / s.alphas_cumprod[t]).sqrt().item() if t >= 0 else 0.0
    y = x / s.alphas_cumprod[path[0]].sqrt().item()
    for a, b in zip(path, path[1:] + [-1]):
        y = y + (sig(b) - sig(a)) * eps_const
    torch.testing.assert_close(out, y, atol=1e-5, rtol=1e-5)


def test_jumps_renoise_without_model_calls() -> None:
    s = Schedule.linear()
    calls = []
    fn = lambda x, t: calls.append(int(t[0])) or torch.zeros_like(x)
    path = [900, 800, 900, 800, 700]  # one RePaint jump back up
    steps = list(ddim_sample(fn, torch.randn(1, 4), s, path=path, generator=torch.Generator().manual_seed(0)))
    assert calls == [900, 900, 800, 700] and len(steps) == 4 and steps[0].total == 4


def test_same_generator_same_result() -> None:
    s = Schedule.linear()
    fn = lambda x, t: 0.1 * x
    a = run(ddim_sample(fn, torch.ones(1, 4), s, steps=5, eta=1.0, generator=torch.Generator().manual_seed(3)))
    b = run(ddim_sample(fn, torch.ones(1, 4), s, steps=5, eta=1.0, generator=torch.Generator().manual_seed(3)))
    c = run(ddim_sample(fn, torch.ones(1, 4), s, steps=5, eta=1.0, generator=torch.Generator().manual_seed(4)))
    assert torch.equal(a, b) and not torch.equal(a, c)


class CountingModel:
    def __init__(self) -> None:
        self.batches: list[int] = []

    def __call__(self, x, t, cond: Cond):
        self.batches.append(x.shape[0])
        # conditional rows answer 1, unconditional rows answer 0
        return cond.keep_z.float().reshape(-1, 1).expand_as(x).clone()


def test_cfg_scale_one_calls_once() -> None:
    model, cond = CountingModel(), Cond.make(torch.zeros(2, 3), 2, 3, "cpu")
    out = cfg(model, cond, 1.0)(torch.zeros(2, 5), torch.zeros(2, dtype=torch.long))
    assert model.batches == [2] and out.eq(1).all()


@pytest.mark.parametrize("scale,expected", [(0.0, 0.0), (1.5, 1.5), (3.0, 3.0)])
def test_cfg_batches_null_and_cond_in_one_call(scale: float, expected: float) -> None:
    model, cond = CountingModel(), Cond.make(torch.zeros(2, 3), 2, 3, "cpu")
    out = cfg(model, cond, scale)(torch.zeros(2, 5), torch.zeros(2, dtype=torch.long))
    assert model.batches == [4]
    torch.testing.assert_close(out, torch.full((2, 5), expected))


def test_null_cond_drops_code_and_position() -> None:
    c = Cond.make(torch.zeros(1, 3), 1, 3, "cpu").null()
    assert not c.keep_z.any() and not c.keep_pos.any()


@pytest.mark.parametrize("solver", ["ddim", "dpmpp-2m"])
def test_an_x0_hook_steers_every_prediction_and_the_result(solver: str) -> None:
    from patchdm_core.sampling.solvers import get_sampler

    schedule, x = Schedule.linear(), torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    eps_fn = lambda x, t: 0.5 * x  # noqa: E731 - any deterministic network
    sample = get_sampler(solver)
    plain = run(sample(eps_fn, x.clone(), schedule, steps=5))
    same = run(sample(eps_fn, x.clone(), schedule, steps=5, x0_fn=lambda x0, t: x0))
    torch.testing.assert_close(same, plain)
    seen = []
    grey = run(sample(eps_fn, x.clone(), schedule, steps=5, x0_fn=lambda x0, t: seen.append(t) or x0 * 0 + 0.25))
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)
    torch.testing.assert_close(grey, torch.full_like(grey, 0.25))  # the clean end is the last steered x0
