from __future__ import annotations

import pytest
import torch

from patchdm_core.model.collage import (
    Grid,
    collage,
    collage_band,
    crop_half_patch,
    from_patches,
    grid_positions,
    pad_half_patch,
    padded_band,
    to_patches,
)


@pytest.mark.parametrize("rows,cols", [(1, 1), (1, 5), (5, 1), (2, 2), (3, 4)])
@pytest.mark.parametrize("p", [4, 16])
def test_collage_of_padded_grid_is_the_aligned_grid(rows: int, cols: int, p: int) -> None:
    x = torch.randn(2, 3, rows * p, cols * p)
    padded = to_patches(pad_half_patch(x, p), p)
    assert padded.shape[0] == 2 * (rows + 1) * (cols + 1)
    assert torch.equal(collage(padded, Grid(rows + 1, cols + 1)), to_patches(x, p))


def test_patches_round_trip_and_order() -> None:
    x = torch.arange(2 * 1 * 8 * 12, dtype=torch.float32).reshape(2, 1, 8, 12)
    patches = to_patches(x, 4)
    assert patches.shape == (2 * 2 * 3, 1, 4, 4)
    assert torch.equal(patches[4], x[1, :, 0:4, 4:8]) is False  # index 4 is image 0, row 1, col 1
    assert torch.equal(patches[4], x[0, :, 4:8, 4:8])
    assert torch.equal(patches[6 + 2], x[1, :, 0:4, 8:12])
    assert torch.equal(from_patches(patches, Grid(2, 3)), x)


def test_wrap_padding_and_crop() -> None:
    x = torch.randn(1, 3, 8, 12)
    xp = pad_half_patch(x, 4, wrap=(True, True))
    assert xp.shape == (1, 3, 12, 16)
    assert torch.equal(crop_half_patch(xp, 4), x)
    assert torch.equal(xp[..., 2:-2, :2], x[..., -2:])  # left ring = right edge
    assert torch.equal(xp[..., :2, 2:-2], x[..., -2:, :])  # top ring = bottom edge
    assert torch.equal(pad_half_patch(x, 4)[..., :2, :], torch.zeros(1, 3, 2, 16))


def test_collage_takes_one_quadrant_from_each_parent() -> None:
    feats = torch.stack([torch.full((1, 4, 4), float(i)) for i in range(4)])  # 2x2 grid, cells 0..3
    out = collage(feats, Grid(2, 2))[0, 0]
    assert out[:2, :2].eq(0).all() and out[:2, 2:].eq(1).all()
    assert out[2:, :2].eq(2).all() and out[2:, 2:].eq(3).all()


def test_grid_positions() -> None:
    origin = torch.tensor([[0.0, 0.0], [3.0, 5.0]])
    enc = grid_positions(Grid(2, 3), origin)
    dec = grid_positions(Grid(2, 3), origin, shifted=True)
    assert enc.shape == (12, 2) and dec.shape == (4, 2)
    assert enc[:6].tolist() == [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]
    assert enc[6].tolist() == [3, 5]
    assert dec[:2].tolist() == [[0.5, 0.5], [0.5, 1.5]]
    assert dec[3].tolist() == [3.5, 6.5]


@pytest.mark.parametrize("wrap", [(False, False), (True, False), (False, True), (True, True)])
def test_padded_band_is_a_slice_of_the_padded_canvas(wrap) -> None:
    x = torch.randn(2, 3, 12, 20)
    full = pad_half_patch(x, 4, wrap)
    for top, height in [(0, 4), (4, 8), (12, 4), (0, 16), (8, 8)]:
        assert torch.equal(padded_band(x, 4, top, height, wrap), full[..., top : top + height, :])


@pytest.mark.parametrize("k,q", [(1, 2), (1, 5), (3, 2), (4, 6)])
def test_collage_band_equals_collage_of_the_stacked_rows(k, q) -> None:
    """The streamed gather equals the reference collage, and comes out channels_last."""
    prev, cur = torch.randn(2, 1, q, 5, 8, 8), torch.randn(2, k, q, 5, 8, 8)
    # the definition: un-patch the grid, crop half a cell from every side, re-patch
    ref = to_patches(crop_half_patch(from_patches(torch.cat([prev, cur], dim=1).flatten(0, 2), Grid(k + 1, q)), 8), 8)
    out = collage_band(prev, cur)
    assert torch.equal(out, ref)
    assert out.is_contiguous(memory_format=torch.channels_last)
