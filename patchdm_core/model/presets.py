"""The presets: tiny() for tests, demo() for the shipped CPU-friendly model, demo_wide() (the same at
twice the width, room for large shapes), paper() for the official 64-px denoiser; by name, or a config
JSON file (load_config)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .config import (
    DiffusionConfig,
    EncoderConfig,
    LatentConfig,
    PatchDMConfig,
    SamplingConfig,
    TrainConfig,
    UNetConfig,
)


def tiny() -> PatchDMConfig:
    """A few-thousand-parameter model with 16-px patches, for unit tests."""
    return PatchDMConfig(
        name="tiny",
        unet=UNetConfig(
            patch_size=16,
            model_channels=8,
            channel_mult=(1, 2),
            res_blocks=1,
            attn_resolutions=(8,),
            num_heads=1,
            time_dim=16,
            pos_dim=16,
            z_dim=8,
            dropout=0.0,
            norm_groups=4,
        ),
        encoder=EncoderConfig(view_size=(16, 32), channels=(8, 16)),
        latent=LatentConfig(layers=3, width=32, timesteps=1000),
        train=TrainConfig(
            image_size=(32, 64),
            batch_size=4,
            ema_decay=0.9,
            sample_every=0,
            save_every=0,
            latent_steps=20,
            latent_batch=16,
        ),
        sampling=SamplingConfig(steps=4, guidance=1.5),
    )


def demo() -> PatchDMConfig:
    """The CPU-friendly shipped model: 64-px patches, ~2 M parameters, cheap top levels."""
    return PatchDMConfig(
        name="patchdm-demo",
        unet=UNetConfig(
            patch_size=64,
            model_channels=16,
            channel_mult=(1, 2, 4, 4),
            res_blocks=1,
            attn_resolutions=(8,),
            mid_attention=True,
            num_heads=2,
            time_dim=128,
            pos_dim=128,
            z_dim=128,
            dropout=0.0,
            norm_groups=8,
        ),
        # v-prediction: at high noise the network predicts the picture itself, which a small model
        # trained briefly learns far faster than the tiny eps residual (and bf16 inference keeps).
        diffusion=DiffusionConfig(prediction="v"),
        encoder=EncoderConfig(view_size=(64, 128), channels=(32, 64, 128, 128)),
        latent=LatentConfig(layers=4, width=256),
        train=TrainConfig(
            image_size=(512, 1024),
            crops="multi",
            batch_size=64,
            lr=2e-4,
            ema_decay=0.999,
            sample_every=2000,
            save_every=2000,
        ),
        # DPM-Solver++(2M) in 12 steps on a patch grid that moves every step: no lattice, half the time
        # of 25 DDIM steps (the sampler table in weights/README.md)
        sampling=SamplingConfig(steps=12, guidance=1.5, grid="random", sampler="dpmpp-2m"),
    )


def demo_wide() -> PatchDMConfig:
    """demo() at 32 base channels instead of 16 (about 4x the parameters and network FLOPs per patch):
    the demo model cannot hold much; this is the next size up for a GPU run to train (from scratch: the
    shapes differ from demo's). Same encoder, prior and sampler defaults."""
    cfg = demo()
    return replace(cfg, name="patchdm-demo-wide", unet=replace(cfg.unet, model_channels=32))


def paper() -> PatchDMConfig:
    """The official 64-px Patch-DM denoiser (71.4 M parameters) with a 512-d global code."""
    return PatchDMConfig(name="patchdm-paper")


PRESETS = {"tiny": tiny, "demo": demo, "demo-wide": demo_wide, "paper": paper}


def preset(name: str) -> PatchDMConfig:
    """Look up a preset by name with a clear error."""
    if name not in PRESETS:
        raise ValueError(f"unknown config preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]()


def load_config(name: str) -> PatchDMConfig:
    """A preset name (tiny, demo, demo-wide, paper) or a config JSON file."""
    path = Path(name)
    return PatchDMConfig.from_json(path.read_text()) if path.suffix == ".json" else preset(name)
