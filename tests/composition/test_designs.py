"""Designed layouts: every family drawn from a seed at any aspect, in palettes that belong together."""

from __future__ import annotations

import numpy as np
import pytest

from patchdm_core.composition.designs import FAMILIES, WORK, design
from patchdm_core.composition.palettes import RULES, from_picture, harmony, oklab_to_srgb, oklch, srgb_to_oklab


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_draws_the_same_layout_for_a_seed_at_any_aspect(family: str) -> None:
    wide, name = design(3, 512, 1024, family=family)
    assert name == family and wide.shape == (WORK // 2, WORK, 3)
    assert np.array_equal(wide, design(3, 512, 1024, family=family)[0])
    assert not np.array_equal(wide, design(4, 512, 1024, family=family)[0])
    tall, _ = design(3, 2400, 1080, family=family)  # a phone: the long side is the height
    assert tall.shape[0] == WORK and abs(tall.shape[1] / tall.shape[0] - 1080 / 2400) < 0.02
    for rgb in (wide, tall):
        assert rgb.min() >= 0 and rgb.max() <= 1
        lab = srgb_to_oklab(rgb)
        assert lab[..., 0].std() > 0.02 or np.hypot(lab[..., 1], lab[..., 2]).std() > 0.01  # not a flat fill


def test_the_seed_picks_the_family_and_every_family_comes_up() -> None:
    names = {design(seed, 256, 512)[1] for seed in range(80)}
    assert names == set(FAMILIES)
    with pytest.raises(ValueError, match="unknown layout family"):
        design(0, 256, 512, family="cubes")


def test_a_horizon_sits_lower_on_a_landscape_canvas_than_on_a_portrait_one() -> None:
    def horizon_row(rgb: np.ndarray) -> float:
        light = srgb_to_oklab(rgb)[..., 0].mean(axis=1)
        return float(np.argmax(np.abs(np.diff(light)))) / len(light)  # the sharpest change of lightness

    wide = np.mean([horizon_row(design(s, 512, 1024, family="horizon")[0]) for s in range(12)])
    tall = np.mean([horizon_row(design(s, 2400, 1080, family="horizon")[0]) for s in range(12)])
    assert 0.5 < tall < wide < 0.75


def test_oklab_round_trips_and_out_of_gamut_colours_lose_chroma_only() -> None:
    rgb = np.random.default_rng(0).random((50, 3))
    assert np.allclose(oklab_to_srgb(srgb_to_oklab(rgb)), rgb, atol=1e-6)
    vivid = oklch(0.7, 0.4, 140)  # far outside sRGB: brought in by lowering the chroma
    assert vivid.min() >= 0 and vivid.max() <= 1
    lab = srgb_to_oklab(vivid)
    assert abs(lab[0] - 0.7) < 0.01 and abs(np.degrees(np.arctan2(lab[2], lab[1])) % 360 - 140) < 3


def test_harmony_palettes_follow_their_rule_and_run_light_to_dark() -> None:
    rng = np.random.default_rng(1)
    for rule in RULES:
        pal = harmony(rng, rule, night=False)
        light = srgb_to_oklab(np.array(pal.depth))[:, 0]
        assert pal.rule == rule and light[0] > light[-1] + 0.3  # far and high is light, near and low is dark
        chroma = np.hypot(*srgb_to_oklab(np.array(pal.depth))[:, 1:].T)
        assert chroma.max() < 0.2  # wallpaper-like, not garish
    hues = np.degrees(np.arctan2(*srgb_to_oklab(np.array(harmony(rng, "monochrome").depth))[:, [2, 1]].T))
    spread = np.ptp(np.unwrap(np.radians(hues)))
    assert np.degrees(spread) < 40  # one hue, up to its jitter (near-grey colours wobble)
    picture = np.zeros((8, 8, 3))
    picture[:4] = [0.9, 0.6, 0.2]
    pal = from_picture(picture, np.random.default_rng(0))  # light to dark or dark to light, the picture's own
    ends = {tuple(np.round(pal.depth[0], 2)), tuple(np.round(pal.depth[-1], 2))}
    assert ends == {(0.9, 0.6, 0.2), (0.0, 0.0, 0.0)} and np.allclose(pal.accent, [0.9, 0.6, 0.2], atol=0.01)
