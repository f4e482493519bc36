"""harmonize: the colour anchor of an edit and the matching of its detail to the picture around it."""

from __future__ import annotations

import torch

from patchdm_core.editing.fill import fill_hole
from patchdm_core.editing.harmonize import anchored, lowpass, match_detail
from patchdm_core.editing.regions import feather
from patchdm_core.evaluation.metrics import grain
from patchdm_core.model.schedule import Schedule
from patchdm_core.runtime.filters import collapse, laplacian_pyramid


def _smooth_with_grainy_square(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    ramp = torch.linspace(-0.6, 0.6, 96).view(1, 1, 1, 96).expand(1, 3, 64, 96).clone()
    hole = torch.zeros(1, 1, 64, 96)
    hole[..., 16:48, 32:64] = 1
    x = ramp + 0.3 * torch.randn(1, 3, 64, 96, generator=g) * hole  # a model's grain in a smooth picture
    return x, hole


def test_collapse_inverts_the_laplacian_pyramid() -> None:
    x = torch.randn(1, 3, 40, 72, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(collapse(laplacian_pyramid(x, min_size=8)), x, atol=1e-5)


def test_match_detail_tames_grain_in_a_smooth_picture_and_keeps_the_rest() -> None:
    x, hole = _smooth_with_grainy_square()
    soft = feather(hole, 4)
    y = match_detail(x, soft)
    assert grain(y, hole) < 0.3 * grain(x, hole)  # the blob's grain drops towards the ramp's
    assert torch.equal(y[(soft == 0).expand_as(y)], x[(soft == 0).expand_as(x)])  # outside the band: untouched
    assert (y - x).abs()[..., 30:34, 44:52].mean() < 0.3 * (x - lowpass(x, 4)).abs()[..., 30:34, 44:52].mean() + 0.3


def test_match_detail_never_adds_detail() -> None:
    """A smooth painted area in a grainy picture stays smooth; so does anything without kept pixels around."""
    x, hole = _smooth_with_grainy_square()
    grain = 0.3 * torch.randn(1, 3, 64, 96, generator=torch.Generator().manual_seed(1))
    flipped = lowpass(x, 8) * hole + x * (1 - hole) + grain * (1 - hole)
    # the pyramid's round trip moves a pixel by float32 rounding (6e-8), which is not detail
    assert torch.allclose(match_detail(flipped, feather(hole, 4)), flipped, atol=1e-6)
    everything = torch.ones(1, 1, 64, 96)
    assert torch.equal(match_detail(x, everything), x)


def test_the_anchor_holds_the_painted_area_to_its_start_colours_at_high_noise_only() -> None:
    schedule = Schedule.linear()
    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 16:48, 16:48] = 1
    reference = torch.full((1, 3, 64, 64), -0.5)
    drifted = torch.full((1, 3, 64, 64), 0.8)  # the model's own palette
    project = anchored(lambda x, t: x, schedule, reference, hole, torch.Generator().manual_seed(0), until=300)
    high = project(drifted.clone(), 900)
    level = float(schedule.alphas_cumprod[900].sqrt()) * -0.5
    assert abs(float(high[..., 24:40, 24:40].mean()) - level) < 0.05  # coarse colour: the start's
    assert torch.equal(high[..., :8, :], drifted[..., :8, :])  # outside the painted area: as projected
    assert torch.equal(project(drifted.clone(), 299), drifted)  # low noise: the model paints freely


def test_anchoring_keeps_an_edit_in_the_colours_around_it(tiny_pipe) -> None:
    """On the untrained tiny model (which paints its own colours), the anchored hole stays in the
    colours pulled in from its border while the noise is high, and ends closer to them than a free one."""
    image = torch.zeros(1, 3, 48, 64)
    image[:, 0] = 0.7
    image[:, 2] = -0.7
    keep = torch.ones(1, 1, 48, 64)
    keep[..., 12:36, 16:48] = 0
    fill = fill_hole(image, keep)
    noisy, final = {}, {}
    for anchor in (0, 8):
        steps = list(tiny_pipe.inpaint(image, keep, seed=2, steps=6, strength=0.9, anchor=anchor, match_detail=False))
        last_anchored = [s for s in steps if s.t >= 300][-1]
        scale = float(tiny_pipe.schedule.alphas_cumprod[last_anchored.t].sqrt())
        noisy[anchor] = float((lowpass(last_anchored.x, 8) - scale * lowpass(fill, 8))[..., 16:32, 24:40].abs().mean())
        final[anchor] = float((lowpass(steps[-1].x, 8) - lowpass(fill, 8))[..., 16:32, 24:40].abs().mean())
    assert noisy[8] < 0.4 * noisy[0], noisy
    assert final[8] < final[0], final
