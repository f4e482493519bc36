"""Noise schedules (DDPM linear, constant), the forward process q(x_t | x_0) and DDIM timesteps."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Schedule:
    alphas_cumprod: Tensor  # [T] float64 on the CPU, strictly decreasing

    @classmethod
    def linear(cls, timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> Schedule:
        """Ho et al. 2020, section 4: betas linear from beta_start to beta_end."""
        betas = torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float64)
        return cls(torch.cumprod(1.0 - betas, dim=0))

    @classmethod
    def constant(cls, timesteps: int = 1000, beta: float = 0.008) -> Schedule:
        """Constant beta (DiffAE's latent DDIM, "const0.008")."""
        betas = torch.full((timesteps,), beta, dtype=torch.float64)
        return cls(torch.cumprod(1.0 - betas, dim=0))

    @property
    def timesteps(self) -> int:
        return self.alphas_cumprod.shape[0]

    def alpha_bar(self, t: Tensor | int, like: Tensor) -> Tensor:
        """alpha_bar_t broadcast against `like`; t = -1 means the clean end (alpha_bar = 1)."""
        t = torch.as_tensor(t, device=like.device).reshape(-1)
        a = self._table(like.device)[t + 1]  # indexed where t lives: no device sync in training
        return a.reshape(-1, *([1] * (like.ndim - 1)))

    def _table(self, device: torch.device) -> Tensor:
        """[1, alpha_bar_0, ..., alpha_bar_{T-1}] as float32 on `device`, cached per device."""
        cache = self.__dict__.setdefault("_tables", {})
        if device not in cache:
            ones = torch.ones(1, dtype=torch.float64)
            cache[device] = torch.cat([ones, self.alphas_cumprod]).to(device=device, dtype=torch.float32)
        return cache[device]

    def q_sample(self, x0: Tensor, t: Tensor | int, noise: Tensor) -> Tensor:
        """x_t = sqrt(a) x0 + sqrt(1 - a) eps (DDPM eq. 4)."""
        a = self.alpha_bar(t, x0)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def predict_x0(self, x_t: Tensor, t: Tensor | int, eps: Tensor) -> Tensor:
        """Invert q_sample for x0 given the noise."""
        a = self.alpha_bar(t, x_t)
        return (x_t - (1 - a).sqrt() * eps) / a.sqrt()

    def predict_eps(self, x_t: Tensor, t: Tensor | int, x0: Tensor) -> Tensor:
        """Invert q_sample for the noise given x0."""
        a = self.alpha_bar(t, x_t)
        return (x_t - a.sqrt() * x0) / (1 - a).sqrt()

    def v_target(self, x0: Tensor, t: Tensor | int, noise: Tensor) -> Tensor:
        """v = sqrt(a) eps - sqrt(1 - a) x0 (Salimans & Ho 2022, section 4)."""
        a = self.alpha_bar(t, x0)
        return a.sqrt() * noise - (1 - a).sqrt() * x0

    def eps_from_v(self, x_t: Tensor, t: Tensor | int, v: Tensor, inplace: bool = False) -> Tensor:
        """eps = sqrt(1 - a) x_t + sqrt(a) v (inplace: written over v, no canvas-sized temporaries)."""
        a = self.alpha_bar(t, x_t)
        if inplace:
            return v.mul_(a.sqrt()).addcmul_(x_t, (1 - a).sqrt())
        return (1 - a).sqrt() * x_t + a.sqrt() * v

    def ddim_timesteps(self, steps: int) -> list[int]:
        """Descending t_i = i * T // steps for i = steps-1 .. 0 (T=1000, 50 steps: 980, 960, ..., 0).

        This is the official Patch-DM spacing (stride T/steps, ending at t = 0).
        """
        if not 1 <= steps <= self.timesteps:
            raise ValueError(f"steps must be in 1..{self.timesteps}, got {steps}")
        return [i * self.timesteps // steps for i in range(steps - 1, -1, -1)]

    def logsnr_timesteps(self, steps: int, end: int = 0) -> list[int]:
        """`steps` descending levels from T-1 to `end`, evenly spaced in log-SNR lambda = log(alpha/sigma)
        (Lu et al. 2022, DPM-Solver's "logSNR" spacing: equal h per step, which a multistep solver wants).
        The solvers step from the last level into the clean end with its prediction, so an `end` above 0
        skips the evaluations at the faintest noise, which change a picture least."""
        if not 1 <= steps <= self.timesteps:
            raise ValueError(f"steps must be in 1..{self.timesteps}, got {steps}")
        if not 0 <= end <= self.timesteps - steps:
            raise ValueError(f"the ladder's end must be in 0..{self.timesteps - steps}, got {end}")
        a = self.alphas_cumprod
        lam = 0.5 * (a.log() - (-a).log1p())  # increasing as t falls
        targets = torch.linspace(float(lam[-1]), float(lam[end]), steps, dtype=torch.float64) if steps > 1 else lam[:1]
        ts = [int((lam - v).abs().argmin()) for v in targets]
        ts[-1] = end
        for i in range(len(ts) - 2, -1, -1):  # strictly decreasing whole levels (ties only at huge step counts)
            ts[i] = min(max(ts[i], ts[i + 1] + 1), self.timesteps - 1 - i)
        return ts
