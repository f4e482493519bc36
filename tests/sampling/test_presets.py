"""Named sampling presets: a preset replaces the model's defaults, a flag beside it wins over both."""

from __future__ import annotations

import pytest
from PIL import Image

from patchdm_core.cli.main import main
from patchdm_core.sampling.presets import PRESETS, preset


def test_presets_are_complete_and_an_unknown_name_is_refused() -> None:
    for name, settings in PRESETS.items():
        assert set(settings) == {"sampler", "steps", "guidance", "guidance_interval", "ladder_end"}, name
    assert preset(None) == {} and preset("quality")["steps"] == 12
    with pytest.raises(ValueError, match="unknown preset 'turbo'"):
        preset("turbo")


def test_a_preset_sets_the_solver_and_a_flag_beside_it_wins(tmp_path) -> None:
    out = tmp_path / "x.png"
    args = ["generate", "--random-init", "tiny", "--size", "32x32", "--seed", "1", "-o", str(out)]
    assert main([*args, "--preset", "quality"]) == 0
    params = Image.open(out).text["parameters"]
    assert "Steps: 12, Sampler: DPM++ 2M, Guidance: 1.5" in params and "Guidance interval" not in params
    assert main([*args, "--preset", "quality", "--steps", "3"]) == 0
    assert "Steps: 3, Sampler: DPM++ 2M" in Image.open(out).text["parameters"]
    lo, hi = PRESETS["fast"]["guidance_interval"]
    assert main([*args, "--preset", "fast"]) == 0
    assert f"Guidance interval: {lo}-{hi}" in Image.open(out).text["parameters"]


def test_a_ladder_can_end_above_the_faintest_noise() -> None:
    from patchdm_core.model.schedule import Schedule
    from patchdm_core.sampling.solvers import ladder

    s = Schedule.linear()
    full, short = ladder("dpmpp-2m", s, 7), ladder("dpmpp-2m", s, 7, end=8)
    assert len(full) == len(short) == 7 and full[-1] == 0 and short[-1] == 8
    assert short[0] == 999 and all(a > b for a, b in zip(short, short[1:]))
    assert ladder("ddim", s, 7, end=8) == s.ddim_timesteps(7)  # DDIM keeps the official stride
    with pytest.raises(ValueError, match="ladder's end"):
        s.logsnr_timesteps(7, end=995)
