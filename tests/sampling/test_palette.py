"""Palette steering moves a prediction's colours to a reference's distribution, using the reference's own
colours, and keeps where the shapes are."""

from __future__ import annotations

import pytest
import torch

from patchdm_core import PatchDM, run, tiny
from patchdm_core.evaluation.metrics import palette_distance
from patchdm_core.sampling.palette import PaletteSteer


def _picture(seed: int, colours: list[tuple[float, float, float]]) -> torch.Tensor:
    """Smooth blobs, each pixel a blend of the two nearest of `colours` ([-1, 1] RGB)."""
    gen = torch.Generator().manual_seed(seed)
    field = torch.nn.functional.interpolate(torch.rand(1, 1, 6, 12, generator=gen), (64, 128), mode="bicubic")
    field = field.clamp(0, 1) * (len(colours) - 1)
    lo = field.floor().clamp(max=len(colours) - 2).long()
    table = torch.tensor(colours)
    a, b = table[lo[0, 0]], table[lo[0, 0] + 1]  # [H, W, 3]
    w = (field[0, 0] - lo[0, 0])[..., None]
    return (a + w * (b - a)).permute(2, 0, 1)[None]


RED_GREY = [(0.8, -0.7, -0.7), (-0.1, -0.1, -0.1), (0.6, 0.6, 0.6)]
BLUE_GREEN = [(-0.8, -0.4, 0.7), (-0.6, 0.5, -0.5), (-0.9, -0.9, -0.6)]


def test_full_strength_takes_the_reference_palette_and_keeps_the_shapes() -> None:
    ref, x = _picture(0, RED_GREY), _picture(1, BLUE_GREEN)
    steer = PaletteSteer(ref, 1.0)
    out = steer(x.clone(), 500)
    assert palette_distance(out, ref) < 0.15 * palette_distance(x, ref)
    # no colour the reference lacks once a solver has steered a few steps: nothing stays green
    for t in (400, 300, 200, 100, 0):
        out = steer(out, t)
    assert palette_distance(out, ref) < 0.03 * palette_distance(x, ref)
    greenness = out[:, 1] - (out[:, 0] + out[:, 2]) / 2  # the reference's greenest pixel: 0 (grey)
    assert greenness.max() < 0.1


def test_shapes_stay_where_they_are() -> None:
    """One function of colour for the whole canvas: flat regions stay flat, each keeps its own colour."""
    field = _picture(3, [(-1.0, -1.0, -1.0), (1.0, 1.0, 1.0)])[0, 0]
    regions = (field * 1.49 + 1.5).long()  # 0, 1, 2: three flat regions
    x = torch.tensor(BLUE_GREEN)[regions].permute(2, 0, 1)[None]
    out = PaletteSteer(_picture(0, RED_GREY), 0.5)(x.clone(), 500)
    means = []
    for k in range(3):
        inside = out[0][:, regions == k]
        assert inside.numel() and (inside - inside[:, :1]).abs().max() < 1e-5
        means.append(inside[:, 0])
    pairs = ((means[0], means[1]), (means[1], means[2]), (means[0], means[2]))
    assert min((a - b).abs().max() for a, b in pairs) > 0.05


def test_strength_blends_and_zero_changes_nothing() -> None:
    ref, x = _picture(0, RED_GREY), _picture(1, BLUE_GREEN)
    assert torch.equal(PaletteSteer(ref, 0.0)(x.clone(), 10), x)
    full, half = PaletteSteer(ref, 1.0)(x.clone(), 10), PaletteSteer(ref, 0.5)(x.clone(), 10)
    inside = full.abs() < 1  # where the full map was not clipped to the colour range
    torch.testing.assert_close(half[inside], ((x + full) / 2)[inside], atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        PaletteSteer(ref, 1.5)


def test_a_flat_prediction_stays_finite() -> None:
    flat = torch.zeros(2, 3, 32, 64)  # an early step: no colour spread at all
    out = PaletteSteer(_picture(0, RED_GREY), 1.0)(flat, 999)
    assert torch.isfinite(out).all() and out.abs().max() <= 1


def test_generate_with_a_palette_paints_nearer_the_reference_colours() -> None:
    pipe = PatchDM.random_init(tiny(), device="cpu")
    ref = _picture(2, RED_GREY)
    plain = run(pipe.generate(64, 128, seed=0, steps=3))
    steered = run(pipe.generate(64, 128, seed=0, steps=3, palette=ref, palette_strength=0.5))
    assert palette_distance(steered, ref) < 0.5 * palette_distance(plain, ref)
    same = run(pipe.generate(64, 128, seed=0, steps=3, palette=ref, palette_strength=0.0))
    assert torch.equal(same, plain)
