"""What training learns (Patch-DM section 3.3): eps-MSE (or v-MSE) on the collaged centre patch of a 2x2
window of the p/2-padded image, plus the same on the four plain (unshifted) patches with the pad ring
masked out and the mean renormalised over the pixels that remain; timesteps drawn uniformly and the
global code and position dropped independently for classifier-free guidance.

Seam-aware options (TrainConfig): a k x k window supervises its (k-1) x (k-1) collaged cells and the
borders between them; windows at any pixel offset; min-SNR-gamma weights per timestep.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..model.collage import Grid, from_patches, to_patches
from ..model.config import PatchDMConfig
from ..model.patchdm import PatchDMModel
from ..model.schedule import Schedule
from .data import Batch


class Objective(nn.Module):
    """The loss of one batch of windows; a module so that DDP sees the whole graph."""

    def __init__(self, model: PatchDMModel, schedule: Schedule, clip_feats: Tensor | None = None) -> None:
        super().__init__()
        self.unet, self.encoder, self.schedule = model.unet, model.encoder, schedule
        self.prediction = model.cfg.diffusion.prediction
        self.gamma = model.cfg.train.min_snr_gamma
        self.clip_feats = clip_feats  # [N, width] frozen tower features per stored image (clip encoder)

    def code(self, batch: Batch) -> Tensor:
        if self.clip_feats is not None:
            return self.encoder.proj(self.clip_feats[batch.index])
        return self.encoder(batch.view)

    def forward(self, batch: Batch, t: Tensor, noise: Tensor, keep_z: Tensor, keep_pos: Tensor) -> tuple[Tensor, ...]:
        p, k = self.unet.cfg.patch_size, batch.x0.shape[-1] // self.unet.cfg.patch_size
        x_t = self.schedule.q_sample(batch.x0, t, noise) * batch.mask  # the pad ring stays 0, as at inference
        out = self.unet(
            to_patches(x_t, p), t, Grid(k, k), self.code(batch), keep_z, keep_pos, batch.origin, return_unshifted=True
        )
        target = self.schedule.v_target(batch.x0, t, noise) if self.prediction == "v" else noise
        weight = self.weights(t)
        inner = slice(p // 2, p // 2 + (k - 1) * p)  # the collaged cells: inside the image unless offsets are pixel
        shifted = from_patches(out.shifted, Grid(k - 1, k - 1)).float()
        l_shift = _masked_mse(shifted, target[..., inner, inner], batch.mask[..., inner, inner], weight)
        l_plain = _masked_mse(from_patches(out.unshifted, Grid(k, k)).float(), target, batch.mask, weight)
        return l_shift + l_plain, l_shift.detach(), l_plain.detach()

    def weights(self, t: Tensor) -> Tensor | None:
        """min-SNR-gamma loss weights [n] (None: all 1). For v targets min(SNR, g) / (SNR + 1), for eps
        min(SNR, g) / SNR: both give an x0-loss weighted by min(SNR, g) (Hang et al. 2023, section 3.4)."""
        gamma = self.gamma
        if not gamma:
            return None
        a = self.schedule.alpha_bar(t, t.float()).float()
        snr = a / (1 - a)
        return snr.clamp(max=gamma) / (snr + 1 if self.prediction == "v" else snr)


def _masked_mse(pred: Tensor, target: Tensor, mask: Tensor, weight: Tensor | None) -> Tensor:
    """Mean squared error over the pixels inside the image (mask 1), each window weighted by `weight`."""
    per_window = ((pred - target) ** 2 * mask).sum(dim=(1, 2, 3))
    if weight is not None:
        per_window = per_window * weight
    return per_window.sum() / (mask.sum() * pred.shape[1]).clamp(min=1)


def trainable(model: PatchDMModel) -> list[tuple[str, nn.Parameter]]:
    """UNet and global encoder; the latent MLP has its own stage (train-latent)."""
    return [(n, p) for n, p in model.named_parameters() if not n.startswith("latent.") and p.requires_grad]


def draw_inputs(cfg: PatchDMConfig, n: int, gen: torch.Generator, device: torch.device) -> tuple[Tensor, ...]:
    """Timesteps (uniform) and the independent CFG keep-flags of one batch, from the training generator
    (drawn on the generator's device: the training loop keeps it on the training device)."""
    g = gen.device
    t_max = cfg.train.t_max or cfg.diffusion.timesteps
    t = torch.randint(cfg.train.t_min, t_max, (n,), generator=gen, device=g).to(device)
    keep_z = (torch.rand(n, generator=gen, device=g) >= cfg.train.p_drop_z).to(device)
    keep_pos = (torch.rand(n, generator=gen, device=g) >= cfg.train.p_drop_pos).to(device)
    return t, keep_z, keep_pos
