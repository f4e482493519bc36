from __future__ import annotations

import pytest

from patchdm_core.model.config import PatchDMConfig
from patchdm_core.model.presets import PRESETS, load_config, preset
from patchdm_core.model.unet import PatchUNet


def _params(cfg: PatchDMConfig) -> int:
    return sum(p.numel() for p in PatchUNet(cfg.unet).parameters())


def test_the_wide_demo_preset_is_the_demo_at_twice_the_width() -> None:
    demo, wide = preset("demo"), preset("demo-wide")
    assert wide.unet.model_channels == 2 * demo.unet.model_channels == 32
    assert (wide.encoder, wide.latent, wide.sampling, wide.diffusion) == (
        demo.encoder,
        demo.latent,
        demo.sampling,
        demo.diffusion,
    )
    assert 3 * _params(demo) < _params(wide) < 4 * _params(demo)  # 1.83 M -> 5.92 M
    assert PatchDMConfig.from_json(wide.to_json()) == wide  # goes into a weights file and back
    assert load_config("demo-wide") == wide and set(PRESETS) >= {"tiny", "demo", "demo-wide", "paper"}


def test_an_unknown_preset_names_the_choices() -> None:
    with pytest.raises(ValueError, match="demo-wide"):
        preset("huge")
