"""PatchDMModel: every trainable module of a Patch-DM (UNet, global encoder, latent MLP) in one place,
so that training and the weights file share one state dict."""

from __future__ import annotations

from torch import nn

from .config import PatchDMConfig
from .encoder import build_encoder
from .latent import LatentMLP
from .unet import PatchUNet


class PatchDMModel(nn.Module):
    def __init__(self, cfg: PatchDMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.unet = PatchUNet(cfg.unet)
        self.encoder = build_encoder(cfg.encoder, cfg.unet.z_dim)
        self.latent = LatentMLP(cfg.latent, cfg.unet.z_dim)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
