"""The Painter's canvas geometry: which whole-patch canvas a size is painted on, and how it comes back to the
size asked for (a centre crop, or, on a tileable axis, a resample that keeps the tile's wrap)."""

from __future__ import annotations

import torch

from patchdm_core import run
from patchdm_core.runtime.filters import resample_periodic


def test_open_axes_round_up_and_wrapped_axes_take_the_nearest_multiple(tiny_pipe) -> None:
    painter = tiny_pipe.painter  # 16-px patches
    assert painter.grid_size(40, 72) == (48, 80)
    assert painter.grid_size(40, 72, tileable=True) == (48, 80)  # a tie (8 px either way) goes up
    assert painter.grid_size(38, 70, tileable=True) == (32, 64)  # 6 px down, not 10 up
    assert painter.grid_size(36, 68, tileable=True) == (32, 64)
    assert painter.grid_size(36, 68, tileable="x") == (48, 64)
    assert painter.grid_size(5, 5, tileable=True) == (16, 16)  # never below one patch


def test_an_off_grid_tile_is_the_grid_tile_resampled_with_wrap_around(tiny_pipe) -> None:
    """Same seed: the 36x68 tile is exactly the 32x64 tile (which the denoiser wraps) resampled periodically;
    a tileable axis of the old code was centre-cropped, which cut the tile's period."""
    kw = dict(seed=4, steps=2, tileable=True)
    grid = run(tiny_pipe.generate(32, 64, **kw))
    off = run(tiny_pipe.generate(36, 68, **kw))
    expected = resample_periodic(resample_periodic(grid, 36, -2), 68, -1)
    assert off.shape[-2:] == (36, 68)
    torch.testing.assert_close(off, expected)
    open_axis = run(tiny_pipe.generate(36, 68, seed=4, steps=2, tileable="x"))  # y is open: cropped from 48
    assert open_axis.shape[-2:] == (36, 68)


def test_periodic_resampling_keeps_the_wrap_where_a_crop_breaks_it() -> None:
    # 256 columns, each a smooth 96-periodic signal of random phases: every row pair (the wrap included)
    # differs by the same amount on average
    gen = torch.Generator().manual_seed(0)
    y = torch.arange(96, dtype=torch.float64)[:, None, None]
    k = torch.arange(1, 5, dtype=torch.float64)
    phase = torch.rand(1, 256, 4, generator=gen, dtype=torch.float64) * 2 * torch.pi
    tile = (torch.sin(2 * torch.pi * k * y / 96 + phase) / k).sum(-1).float().expand(1, 3, 96, 256)

    def wrap_ratio(img: torch.Tensor) -> float:
        across = (img[..., 0, :] - img[..., -1, :]).abs().mean()
        inside = (img[..., 1:, :] - img[..., :-1, :]).abs().mean()
        return float(across / inside)

    assert wrap_ratio(tile) < 1.05
    assert wrap_ratio(resample_periodic(tile, 90, -2)) < 1.05
    assert wrap_ratio(resample_periodic(tile, 101, -2)) < 1.05
    assert wrap_ratio(tile[..., 3:93, :]) > 3  # the old centre crop: the two ends no longer meet
    torch.testing.assert_close(resample_periodic(torch.ones(1, 1, 7, 9), 5, -1), torch.ones(1, 1, 7, 5))


def test_the_preview_blurs_what_the_model_cannot_resolve_yet(tiny_pipe) -> None:
    """At high noise a patch's x0 is little more than its mean colour: the plain x0 shows a grid of squares,
    the preview does not; the finished picture comes back as it is."""
    from patchdm_core.sampling.solvers import Step

    def edge(x: torch.Tensor) -> float:  # mean step across the patch-grid columns
        return float((x[..., p::p] - x[..., p - 1 : -1 : p]).abs().mean())

    p = tiny_pipe.p
    cells = torch.rand(1, 3, 4, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    blocky = torch.nn.functional.interpolate(cells, scale_factor=p, mode="nearest")  # 64 x 128 squares
    blocky = blocky + 0.2 * torch.rand(blocky.shape, generator=torch.Generator().manual_seed(1))  # and grain
    early = tiny_pipe.painter.preview(Step(0, 12, 990, blocky, blocky))
    assert edge(early) < 0.25 * edge(blocky)  # no hard step at the patch borders
    done = tiny_pipe.painter.preview(Step(11, 12, -1, blocky, blocky))
    assert torch.equal(done, blocky.clamp(-1, 1))
    small = tiny_pipe.painter.preview(Step(11, 12, -1, blocky, blocky), max_side=32)
    assert small.shape[-2:] == (16, 32)
    assert tiny_pipe.preview(Step(0, 12, 990, blocky, blocky)).size == (128, 64)  # the facade's PIL picture
