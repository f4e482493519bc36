from __future__ import annotations

import pytest
import torch

from patchdm_core.collage import Grid, from_patches, pad_half_patch, to_patches
from patchdm_core.denoiser import CanvasDenoiser, evals_per_step
from patchdm_core.guidance import Cond


def _cond(pipe, b: int = 1, keep_pos: bool = True) -> Cond:
    z = torch.randn(b, pipe.cfg.unet.z_dim, generator=torch.Generator().manual_seed(2))
    c = Cond.make(z, b, pipe.cfg.unet.z_dim, "cpu")
    return c if keep_pos else Cond(c.z, c.keep_z, torch.zeros_like(c.keep_pos))


def _den(pipe, **kw) -> CanvasDenoiser:
    return CanvasDenoiser(pipe.model.unet, autocast=False, positions="absolute", **kw)


@pytest.mark.parametrize("rows,cols", [(3, 5), (4, 1), (1, 3)])
@pytest.mark.parametrize("chunk", [1, 5, 1000])
def test_streamed_feature_mode_equals_all_at_once(tiny_pipe, rows: int, cols: int, chunk: int) -> None:
    p = tiny_pipe.p
    x = torch.randn(2, 3, rows * p, cols * p)
    t, cond = torch.tensor([500, 200]), _cond(tiny_pipe, 2)
    with torch.no_grad():
        ref = tiny_pipe.model.unet(
            to_patches(pad_half_patch(x, p), p),
            t,
            Grid(rows + 1, cols + 1),
            cond.z,
            cond.keep_z,
            cond.keep_pos,
            torch.zeros(2, 2),
        ).shifted
    ref = from_patches(ref, Grid(rows, cols))
    den = _den(tiny_pipe, mode="feature", chunk=chunk)
    torch.testing.assert_close(den(x, t, cond), ref, atol=1e-5, rtol=1e-4)
    assert den.evals["encode"] == 2 * (rows + 1) * (cols + 1) and den.evals["decode"] == 2 * rows * cols


def test_sliding_with_stride_p_equals_naive(tiny_pipe) -> None:
    p = tiny_pipe.p
    x, t, cond = torch.randn(1, 3, 3 * p, 4 * p), torch.tensor([400]), _cond(tiny_pipe)
    naive = _den(tiny_pipe, mode="naive", chunk=5)(x, t, cond)
    sliding = _den(tiny_pipe, mode="sliding", stride=p, chunk=5)(x, t, cond)
    assert torch.equal(naive, sliding)
    half = _den(tiny_pipe, mode="sliding", stride=p // 2)
    assert not torch.allclose(half(x, t, cond), naive)
    assert half.evals["encode"] == evals_per_step("sliding", 3 * p, 4 * p, p, p // 2) // 2


def test_pixel_mode_alternates_aligned_and_shifted_grids(tiny_pipe) -> None:
    p = tiny_pipe.p
    x, t, cond = torch.randn(1, 3, 2 * p, 3 * p), torch.tensor([400]), _cond(tiny_pipe)
    den = _den(tiny_pipe, mode="pixel")
    naive = _den(tiny_pipe, mode="naive")(x, t, cond)
    assert torch.equal(den(x, t, cond), naive)
    shifted = den(x, t, cond)
    assert shifted.shape == x.shape and not torch.allclose(shifted, naive)
    assert torch.equal(den(x, t, cond), naive)


def test_wrap_makes_feature_mode_equivariant_to_rolls(tiny_pipe) -> None:
    """With wrap-around and no position, rolling the canvas by whole patches rolls eps: no border exists."""
    p = tiny_pipe.p
    x, t, cond = torch.randn(1, 3, 3 * p, 4 * p), torch.tensor([400]), _cond(tiny_pipe, keep_pos=False)
    den = _den(tiny_pipe, mode="feature", wrap=(True, True))
    rolled = den(torch.roll(x, (p, 2 * p), dims=(-2, -1)), t, cond)
    torch.testing.assert_close(rolled, torch.roll(den(x, t, cond), (p, 2 * p), dims=(-2, -1)), atol=1e-5, rtol=1e-4)
    plain = _den(tiny_pipe, mode="feature")
    assert not torch.allclose(plain(torch.roll(x, p, dims=-1), t, cond), torch.roll(plain(x, t, cond), p, dims=-1))


def test_stretch_positions_scale_to_the_training_grid(tiny_pipe) -> None:
    p = tiny_pipe.p
    x, t, cond = torch.randn(1, 3, 4 * p, 8 * p), torch.tensor([400]), _cond(tiny_pipe)
    train_size = Grid(2, 4)
    stretch = CanvasDenoiser(tiny_pipe.model.unet, autocast=False, positions="stretch", train_grid=train_size)
    absolute = _den(tiny_pipe)
    assert not torch.allclose(stretch(x, t, cond), absolute(x, t, cond))
    same = CanvasDenoiser(tiny_pipe.model.unet, autocast=False, positions="stretch", train_grid=Grid(4, 8))
    assert torch.equal(same(x, t, cond), absolute(x, t, cond))


def test_evaluation_counts() -> None:
    assert evals_per_step("feature", 512, 1024, 64) == 9 * 17 + 8 * 16
    assert evals_per_step("naive", 512, 1024, 64) == 2 * 128
    assert evals_per_step("sliding", 512, 1024, 64, 8) == 2 * 57 * 121


def test_bad_canvas_and_mode(tiny_pipe) -> None:
    with pytest.raises(ValueError, match="multiple of the patch size"):
        _den(tiny_pipe)(torch.randn(1, 3, 20, 32), torch.tensor([1]), _cond(tiny_pipe))
    with pytest.raises(ValueError, match="unknown mode"):
        CanvasDenoiser(tiny_pipe.model.unet, mode="bogus")


def test_alternate_shifts_the_grid_on_every_other_call(tiny_pipe) -> None:
    p = tiny_pipe.p
    x, t, cond = torch.randn(1, 3, 2 * p, 3 * p), torch.tensor([400]), _cond(tiny_pipe)
    plain = _den(tiny_pipe, mode="feature")(x, t, cond)
    den = _den(tiny_pipe, mode="feature", alternate=True)
    assert torch.equal(den(x, t, cond), plain)
    shifted = den(x, t, cond)
    assert shifted.shape == x.shape and not torch.allclose(shifted, plain)
    assert den.evals["encode"] == (3 * 4) + (4 * 5)  # the shifted grid has one more row and column
    # on a wrapped canvas the shift is a roll: still no border anywhere
    wrap = _den(tiny_pipe, mode="feature", wrap=(True, True), alternate=True)
    wrap(x, t, cond)
    rolled = wrap(torch.roll(x, (p, p), dims=(-2, -1)), t, cond)
    wrap.evals["calls"] = 1
    torch.testing.assert_close(rolled, torch.roll(wrap(x, t, cond), (p, p), dims=(-2, -1)), atol=1e-5, rtol=1e-4)
