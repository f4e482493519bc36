"""A small MLP diffusion model over the global code z (DiffAE's latent DDIM, Patch-DM stage 2).

Codes are normalised with the training set's mean and std (kept as buffers), the network predicts
eps with an L1 loss, the schedule has a constant beta, and `ddim_sample` draws new codes, so that
`generate` without a reference picture gets a z like the ones the UNet was trained with.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .blocks import sinusoidal
from .config import LatentConfig
from .schedule import Schedule


class LatentMLP(nn.Module):
    """eps(z_t, t): `layers` Linear-LayerNorm-SiLU blocks, the input re-concatenated at every hidden layer,
    each block scaled by a projection of the time embedding."""

    def __init__(self, cfg: LatentConfig, z_dim: int) -> None:
        super().__init__()
        self.cfg, self.z_dim = cfg, z_dim
        self.time = nn.Sequential(nn.Linear(64, cfg.width), nn.SiLU(), nn.Linear(cfg.width, cfg.width))
        self.layers = nn.ModuleList()
        self.scales = nn.ModuleList()
        self.norms = nn.ModuleList()
        for i in range(cfg.layers - 1):
            self.layers.append(nn.Linear(z_dim if i == 0 else cfg.width + z_dim, cfg.width))
            self.scales.append(nn.Linear(cfg.width, cfg.width))
            self.norms.append(nn.LayerNorm(cfg.width))
        self.out = nn.Linear(cfg.width + z_dim, z_dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.register_buffer("z_mean", torch.zeros(z_dim))
        self.register_buffer("z_std", torch.ones(z_dim))
        self.register_buffer("trained", torch.zeros(()))  # 1 once train-latent has run

    @property
    def ready(self) -> bool:
        return bool(self.trained.item() > 0)

    def schedule(self) -> Schedule:
        return Schedule.constant(self.cfg.timesteps, self.cfg.beta)

    def forward(self, z_t: Tensor, t: Tensor) -> Tensor:
        """z_t [B, D] (normalised), t [B] -> eps [B, D]."""
        temb = nn.functional.silu(self.time(sinusoidal(t, 64)))
        h = z_t
        for i, (lin, scale, norm) in enumerate(zip(self.layers, self.scales, self.norms)):
            h = lin(h if i == 0 else torch.cat([h, z_t], dim=-1))
            h = nn.functional.silu(norm(h) * (1 + scale(temb)))
        return self.out(torch.cat([h, z_t], dim=-1))

    def normalize(self, z: Tensor) -> Tensor:
        return (z - self.z_mean) / self.z_std

    def denormalize(self, z: Tensor) -> Tensor:
        return z * self.z_std + self.z_mean
