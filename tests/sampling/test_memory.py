"""The memory estimate of a painting job: built from the model's config, before anything is allocated."""

from __future__ import annotations

import torch

from patchdm_core import demo, tiny
from patchdm_core.model.unet import PatchUNet
from patchdm_core.sampling.memory import canvas_copies, feature_floats, job_bytes


def test_the_feature_count_is_what_the_encoder_returns() -> None:
    for cfg in (tiny(), demo()):
        unet = PatchUNet(cfg.unet).eval()
        p = cfg.patch_size
        with torch.no_grad():
            emb = unet.embed(
                torch.zeros(1, dtype=torch.long),
                torch.zeros(1, 2),
                torch.ones(1, dtype=torch.bool),
                torch.zeros(1, cfg.unet.z_dim),
                torch.ones(1, dtype=torch.bool),
            )
            feats = unet.encode(torch.zeros(1, 3, p, p), emb)
        assert feature_floats(cfg.unet) == sum(f.numel() for f in feats)


def test_the_estimate_grows_with_the_canvas_the_batch_and_guidance() -> None:
    cfg = demo()
    small, big = job_bytes(cfg, 512, 1024), job_bytes(cfg, 1024, 2048)
    canvas = 3 * 512 * 1024 * 4  # one float32 canvas of 1024x512
    assert big - small >= 3 * canvas_copies(True) * canvas  # the canvas copies grow with the area
    assert job_bytes(cfg, 512, 1024, batch=2) - small >= canvas_copies(True) * canvas
    assert job_bytes(cfg, 512, 1024, guided=False) < small
    assert canvas_copies(True) > canvas_copies(False)
    # a 65536x65536 canvas: at least ten float32 copies of 51.5 GB, whatever the model
    assert job_bytes(tiny(), 65536, 65536) > 10 * 3 * 65536**2 * 4
