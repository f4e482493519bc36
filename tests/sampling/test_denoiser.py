from __future__ import annotations

import pytest
import torch

from patchdm_core.model.collage import Grid, from_patches, pad_half_patch, to_patches
from patchdm_core.sampling.denoiser import CanvasDenoiser, evals_per_step
from patchdm_core.sampling.guidance import Cond
from patchdm_core.sampling.positions import grid_offset


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
    with pytest.raises(ValueError, match="unknown grid rule"):
        CanvasDenoiser(tiny_pipe.model.unet, grid="wobbly")


def test_alternate_shifts_the_grid_on_every_other_call(tiny_pipe) -> None:
    p = tiny_pipe.p
    x, t, cond = torch.randn(1, 3, 2 * p, 3 * p), torch.tensor([400]), _cond(tiny_pipe)
    plain = _den(tiny_pipe, mode="feature")(x, t, cond)
    den = _den(tiny_pipe, mode="feature", grid="alternate")
    assert [den.grid_offset(i) for i in range(3)] == [(0, 0), (p // 2, p // 2), (0, 0)]
    assert torch.equal(den(x, t, cond), plain)
    shifted = den(x, t, cond)
    assert shifted.shape == x.shape and not torch.allclose(shifted, plain)
    assert den.evals["encode"] == (3 * 4) + (4 * 5)  # the shifted grid has one more row and column
    # on a wrapped canvas the shift is a roll: still no border anywhere
    wrap = _den(tiny_pipe, mode="feature", wrap=(True, True), grid="alternate")
    wrap(x, t, cond)
    rolled = wrap(torch.roll(x, (p, p), dims=(-2, -1)), t, cond)
    wrap.evals["calls"] = 1
    torch.testing.assert_close(rolled, torch.roll(wrap(x, t, cond), (p, p), dims=(-2, -1)), atol=1e-5, rtol=1e-4)


def test_random_grid_offsets_are_seeded_per_call_and_cover_the_patch() -> None:
    offsets = [grid_offset(7, call, 64) for call in range(400)]
    assert offsets == [grid_offset(7, call, 64) for call in range(400)]  # a pure function of (seed, call)
    assert offsets != [grid_offset(8, call, 64) for call in range(400)]
    ys, xs = {o[0] for o in offsets}, {o[1] for o in offsets}
    assert min(ys) >= 0 and max(ys) < 64 and min(xs) >= 0 and max(xs) < 64
    assert len(ys) > 55 and len(xs) > 55  # 400 draws reach nearly every one of the 64 offsets
    repeats = sum(a == b for a, b in zip(offsets, offsets[1:]))
    assert repeats <= 2  # a border almost never stays where it was


def test_random_grid_on_a_wrapped_canvas_is_a_roll_of_the_fixed_grid(tiny_pipe) -> None:
    """Tileable: the moved lattice is the fixed lattice of the rolled canvas, rolled back (no edge anywhere)."""
    p = tiny_pipe.p
    x, t, cond = torch.randn(1, 3, 2 * p, 3 * p), torch.tensor([400]), _cond(tiny_pipe, keep_pos=False)
    den = _den(tiny_pipe, mode="feature", wrap=(True, True), grid="random", grid_seed=3)
    dy, dx = den.grid_offset(0)
    assert (dy, dx) != (0, 0)
    fixed = _den(tiny_pipe, mode="feature", wrap=(True, True))
    expected = torch.roll(fixed(torch.roll(x, (dy, dx), dims=(-2, -1)), t, cond), (-dy, -dx), dims=(-2, -1))
    torch.testing.assert_close(den(x, t, cond), expected, atol=1e-5, rtol=1e-4)
    assert den.evals["encode"] == 3 * 4  # a roll adds no cells


@pytest.mark.parametrize("wrap", [(False, False), (False, True)])
def test_random_grid_streams_like_the_whole_canvas_and_positions_follow_the_cells(tiny_pipe, wrap) -> None:
    p = tiny_pipe.p
    x, t, cond = torch.randn(2, 3, 3 * p, 4 * p), torch.tensor([500, 200]), _cond(tiny_pipe, 2)
    small = _den(tiny_pipe, mode="feature", grid="random", grid_seed=11, chunk=1, wrap=wrap)
    whole = _den(tiny_pipe, mode="feature", grid="random", grid_seed=11, chunk=1000, wrap=wrap)
    seen = []
    embed = small._emb
    small._emb = lambda t_, c_, i_, pos: seen.append(pos * small._scale + small._shift) or embed(t_, c_, i_, pos)
    out = small(x, t, cond)
    torch.testing.assert_close(out, whole(x, t, cond), atol=1e-5, rtol=1e-4)
    dy, dx = small.grid_offset(0)
    assert dy and dx
    rows, cols = 3 + 1, (4 if wrap[1] else 4 + 1)  # an open axis gains one row/column of cells
    assert small.evals["decode"] == 2 * rows * cols and small.evals["encode"] == 2 * (rows + 1) * (cols + 1)
    # the network sees canvas positions of the moved cells: centres at k/2 - dy/p (encoder cells on
    # whole k, decoded cells half a patch further), so (pos + dy/p) * 2 is a whole number
    pos = torch.cat(seen)
    ys = (pos[:, 0] + dy / p) * 2
    assert torch.allclose(ys, ys.round(), atol=1e-5) and not torch.allclose(pos[:, 0] * 2, (pos[:, 0] * 2).round())
    if not wrap[1]:
        xs = (pos[:, 1] + dx / p) * 2
        assert torch.allclose(xs, xs.round(), atol=1e-5)
