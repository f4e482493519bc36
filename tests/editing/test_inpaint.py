from __future__ import annotations

import pytest
import torch

from patchdm_core import run, to_pil
from patchdm_core.editing.fill import TELEA_RADIUS, fill_hole, mirror_fill
from patchdm_core.editing.regions import evals_of, feather, grow_canvas, repaint_path
from patchdm_core.runtime.images import from_pil

# every solver and grid rule keeps the known-pixel guarantee: the tiny model's DDIM on the fixed grid, and
# DPM-Solver++(2M) with stochasticity on the random grid
SOLVERS = [
    pytest.param({}, id="ddim-fixed"),
    pytest.param({"sampler": "dpmpp-2m", "grid": "random", "eta": 0.5}, id="dpmpp-random"),
]


def _picture(h: int, w: int, seed: int = 0) -> torch.Tensor:
    """An 8-bit-exact picture in [-1, 1] (what from_pil gives)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (1, 3, h, w), generator=g).float() / 127.5 - 1


def _known_exact(out: torch.Tensor, image: torch.Tensor, keep: torch.Tensor) -> bool:
    a, b = from_pil(to_pil(out)), from_pil(to_pil(image))
    return bool(torch.equal(a * keep, b * keep))


def test_feather_is_one_on_the_hole_and_zero_beyond_the_radius() -> None:
    hole = torch.zeros(1, 1, 40, 40)
    hole[..., 15:25, 15:25] = 1
    soft = feather(hole, 6)
    assert soft[..., 15:25, 15:25].eq(1).all()
    assert soft[..., 20, 26:31].gt(0).all() and (soft[..., 20, 26:31].diff() <= 0).all()
    assert soft[..., 20, 31:].eq(0).all() and soft[..., :9, :].eq(0).all()
    assert torch.equal(feather(hole, 0), hole)


def test_repaint_path_costs() -> None:
    levels = list(range(980, -1, -20))
    assert evals_of(levels) == 50
    assert evals_of(repaint_path(levels, 5, 5)) == 230  # RePaint 50/5/5, as counted by its authors
    assert evals_of(repaint_path(levels, 5, 1)) == 50
    assert repaint_path(levels, 5, 2)[:12] == [980, 960, 940, 920, 900, 880, 980, 960, 940, 920, 900, 880]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("method", ["fast", "harmonized"])
def test_inpaint_keeps_known_pixels_exactly(tiny_pipe, method: str, solver: dict) -> None:
    image = _picture(40, 56)
    keep = torch.ones(1, 1, 40, 56)
    keep[..., 10:26, 20:40] = 0
    kw = {"method": method, "jump": 2, "resample": 2, "strength": 1.0, **solver}
    steps = list(tiny_pipe.inpaint(image, keep, seed=1, steps=4, blur=4, **kw))
    assert steps[-1].total == (4 if method == "fast" else 6)
    out = steps[-1].x
    assert out.shape == image.shape
    band = feather(1 - keep, 4) > 0
    assert _known_exact(out, image, (~band).float())
    assert not torch.allclose(out[..., 10:26, 20:40], image[..., 10:26, 20:40], atol=0.05)


@pytest.mark.parametrize("solver", SOLVERS)
def test_only_masked_area_runs_fewer_patches_and_keeps_the_rest(tiny_pipe, solver: dict) -> None:
    p = tiny_pipe.p
    image = _picture(8 * p, 12 * p)
    keep = torch.ones(1, 1, 8 * p, 12 * p)
    keep[..., 3 * p : 4 * p, 5 * p : 6 * p] = 0
    full = list(tiny_pipe.inpaint(image, keep, seed=2, steps=2, blur=0, **solver))
    part = list(tiny_pipe.inpaint(image, keep, seed=2, steps=2, blur=0, only_masked=True, margin=p, **solver))
    assert part[-1].x.shape == image.shape
    assert _known_exact(part[-1].x, image, keep)
    assert _known_exact(full[-1].x, image, keep)


@pytest.mark.parametrize("solver", SOLVERS)
def test_outpaint_grows_to_whole_patches_and_keeps_the_picture(tiny_pipe, solver: dict) -> None:
    p = tiny_pipe.p
    image = _picture(3 * p, 4 * p)
    out = run(tiny_pipe.outpaint(image, (0, 20, 0, 0), seed=3, steps=3, feather_px=4, **solver))
    assert out.shape == (1, 3, 3 * p, 4 * p + 32)  # 20 px rounded up to two 16-px patches
    assert _known_exact(out[..., : 4 * p - 4], image[..., : 4 * p - 4], torch.ones(1, 1, 3 * p, 4 * p - 4))
    out = run(tiny_pipe.outpaint(image, (p, p, p, p), seed=3, steps=2, feather_px=0, **solver))
    assert out.shape == (1, 3, 5 * p, 6 * p)
    assert _known_exact(out[..., p : 4 * p, p : 5 * p], image, torch.ones(1, 1, 3 * p, 4 * p))
    canvas, keep, offset = grow_canvas(image, (5, 0, 0, 0), p)
    assert canvas.shape[-2] == 4 * p and offset == (p, 0) and keep[..., :p, :].eq(0).all()


def test_extending_twice_equals_once_in_starting_noise(tiny_pipe, monkeypatch) -> None:
    """Right by 2 patches twice == right by 4 once: every patch starts from the same noise."""
    p = tiny_pipe.p
    drawn = []
    real = type(tiny_pipe.painter).initial_noise

    def spy(self, seed, h, w, origin=(0, 0), device=None):
        noise = real(self, seed, h, w, origin, device)
        drawn.append(noise)
        return noise

    monkeypatch.setattr(type(tiny_pipe.painter), "initial_noise", spy)  # the editing tools draw through the painter
    image = _picture(2 * p, 4 * p)
    first = run(tiny_pipe.outpaint(image, (0, 2 * p, 0, 0), seed=9, steps=1))
    run(tiny_pipe.outpaint(first, (0, 2 * p, 0, 0), seed=9, steps=1))
    run(tiny_pipe.outpaint(image, (0, 4 * p, 0, 0), seed=9, steps=1))
    twice_a, twice_b, once = drawn
    assert torch.equal(twice_a[..., 4 * p :], once[..., 4 * p : 6 * p])
    assert torch.equal(twice_b[..., 6 * p :], once[..., 6 * p :])


@pytest.mark.parametrize("solver", SOLVERS)
def test_reroll_changes_only_the_box(tiny_pipe, solver: dict) -> None:
    p = tiny_pipe.p
    image = _picture(4 * p, 4 * p)
    out = run(tiny_pipe.reroll(image, (p + 3, p + 2, p, p), seed=5, steps=2, blur=0, **solver))
    keep = torch.ones(1, 1, 4 * p, 4 * p)
    keep[..., p : 3 * p, p : 3 * p] = 0  # the box snapped outward to whole patches
    assert _known_exact(out, image, keep)
    assert not torch.allclose(out[..., p : 2 * p, p : 2 * p], image[..., p : 2 * p, p : 2 * p], atol=0.05)


def test_bad_edits_are_clear_errors(tiny_pipe) -> None:
    image = _picture(32, 32)
    with pytest.raises(ValueError, match="empty"):
        list(tiny_pipe.inpaint(image, torch.ones(1, 1, 32, 32), seed=0, steps=1))
    with pytest.raises(ValueError, match="does not match"):
        list(tiny_pipe.inpaint(image, torch.ones(1, 1, 16, 32), seed=0, steps=1))
    with pytest.raises(ValueError, match="nothing to extend"):
        list(tiny_pipe.outpaint(image, (0, 0, 0, 0), seed=0))
    with pytest.raises(ValueError, match="not inside"):
        list(tiny_pipe.reroll(image, (30, 0, 8, 8), seed=0))
    with pytest.raises(ValueError, match="tileable"):
        list(tiny_pipe.generate(32, 32, seed=0, tileable=True, mode="naive"))


def test_edits_paint_with_the_global_code_of_the_edited_picture(tiny_pipe, monkeypatch) -> None:
    """Not a code sampled from the latent model: the new area should take the picture's palette."""
    p = tiny_pipe.p
    image = torch.rand(1, 3, 2 * p, 3 * p) * 2 - 1
    seen = []
    cond = tiny_pipe.painter.cond
    monkeypatch.setattr(tiny_pipe.painter, "cond", lambda z: seen.append(z) or cond(z))
    keep = torch.ones(1, 1, 2 * p, 3 * p)
    keep[..., :p, :p] = 0
    run(tiny_pipe.inpaint(image, keep, seed=1, steps=1))
    run(tiny_pipe.outpaint(image, (0, p, 0, 0), seed=1, steps=1))
    mine = torch.randn(1, tiny_pipe.cfg.unet.z_dim)
    run(tiny_pipe.outpaint(image, (0, p, 0, 0), seed=1, steps=1, z=mine))
    code = tiny_pipe.encode_style(image)
    torch.testing.assert_close(seen[0], code)
    torch.testing.assert_close(seen[1], code)  # the old picture's code, not the grown canvas's
    assert torch.equal(seen[2], mine)


@pytest.mark.parametrize("how", ["structure", "smooth"])
def test_fill_hole_pulls_the_border_colours_in_and_keeps_the_rest(how: str) -> None:
    image = torch.zeros(1, 3, 32, 48)
    image[..., :24] = -1.0  # dark left half, light right half
    image[..., 24:] = 1.0
    keep = torch.ones(1, 1, 32, 48)
    keep[..., 8:24, 16:32] = 0
    out = fill_hole(image, keep, how=how)
    assert torch.equal(out * keep, image * keep)
    hole = out[..., 8:24, 16:32]
    assert hole.min() >= -1 and hole.max() <= 1
    assert hole[..., 0].mean() < -0.3 and hole[..., -1].mean() > 0.3  # each side takes its neighbour's colour
    # the structure fill runs in 8 bits, and Telea's weights wobble by a few levels near the far side
    level = 2 / 255 if how == "structure" else 1e-6
    assert (hole.diff(dim=-1) >= -4 * level).all()  # and blends between them without a step back
    flat = torch.full((1, 3, 20, 20), 0.25)
    torch.testing.assert_close(fill_hole(flat, keep[..., :20, :20], how=how), flat, atol=2 * level, rtol=0)
    assert torch.equal(fill_hole(image, torch.ones_like(keep), how=how), image)  # no hole: nothing to fill
    with pytest.raises(ValueError, match="nothing is kept"):
        fill_hole(image, torch.zeros_like(keep), how=how)
    with pytest.raises(ValueError, match="how must be"):
        fill_hole(image, keep, how="blur")


def test_the_structure_fill_carries_an_edge_across_the_hole() -> None:
    """A diagonal edge (dark below, light above) crossing a square hole: the structure fill keeps each
    side of the line in its own colour; the smooth fill greys the hole out where the two meet."""
    yy, xx = torch.meshgrid(torch.arange(64.0), torch.arange(96.0), indexing="ij")
    below = yy > xx - 16
    image = torch.where(below, -0.8, 0.8).view(1, 1, 64, 96).expand(1, 3, 64, 96).clone()
    keep = torch.ones(1, 1, 64, 96)
    keep[..., 16:48, 32:64] = 0
    hole = (keep[0, 0] < 0.5) & ((yy - (xx - 16)).abs() > 6)  # hole pixels away from the line
    errors = {}
    for how in ("structure", "smooth"):
        out = fill_hole(image, keep, how=how)
        errors[how] = float((out - image)[0, 0][hole].abs().mean())
    assert errors["structure"] < 0.05 and errors["smooth"] > 0.25, errors


def test_the_structure_fill_of_the_hole_box_is_that_of_the_whole_picture() -> None:
    """Only the hole's box (grown by Telea's radius) is filled: a small hole in a big canvas costs little,
    and the result is OpenCV's on the whole picture."""
    import cv2

    image = torch.rand(1, 3, 96, 160, generator=torch.Generator().manual_seed(0)) * 2 - 1
    keep = torch.ones(1, 1, 96, 160)
    keep[..., 30:50, 70:110] = 0
    whole = image[0].add(1).mul(127.5).round().byte().permute(1, 2, 0).numpy()
    mask = (keep[0, 0] < 0.5).to(torch.uint8).numpy()
    expected = cv2.inpaint(whole, mask, TELEA_RADIUS, cv2.INPAINT_TELEA)
    got = fill_hole(image, keep).add(1).mul(127.5).round().byte()[0].permute(1, 2, 0).numpy()
    assert (got[mask > 0] == expected[mask > 0]).all()


def test_mirror_fill_carries_each_border_outward() -> None:
    image = torch.linspace(-1, 1, 40).view(1, 1, 1, 40).expand(1, 3, 24, 40).clone()
    canvas, keep, (top, left) = grow_canvas(image, (8, 16, 0, 24), 8)
    out = mirror_fill(canvas, (top, left, 24, 40), blur=2)
    assert torch.equal(out[..., top : top + 24, left : left + 40], image)
    right, far_left = out[..., top + 12, left + 40 : left + 44], out[..., top + 12, :left][..., -4:]
    assert (right > 0.8).all() and (far_left < -0.8).all()  # the colours next to each side, not the mean
    assert torch.allclose(out[..., :top, left + 20], image[..., :1, 20].expand(1, 3, top), atol=0.05)


@pytest.mark.parametrize("content", ["fill", "original"])
def test_strength_starts_the_hole_from_its_content_and_runs_that_share_of_the_steps(tiny_pipe, content) -> None:
    p = tiny_pipe.p
    image = _picture(3 * p, 4 * p)
    keep = torch.ones(1, 1, 3 * p, 4 * p)
    keep[..., p : 2 * p, p : 3 * p] = 0
    kw = {"seed": 4, "steps": 4, "blur": 0, "content": content, "sampler": "ddim"}
    half = list(tiny_pipe.inpaint(image, keep, strength=0.5, **kw))
    assert half[-1].total == 2 and _known_exact(half[-1].x, image, keep)
    low = run(tiny_pipe.inpaint(image, keep, strength=0.25, **kw))  # one step from the last level: ~ its start
    start = fill_hole(image, keep) if content == "fill" else image
    hole = (..., slice(p, 2 * p), slice(p, 3 * p))
    other = image if content == "fill" else fill_hole(image, keep)
    assert (low[hole] - start[hole]).abs().mean() < 0.1 < (low[hole] - other[hole]).abs().mean()
    with pytest.raises(ValueError, match="raise the strength"):
        list(tiny_pipe.inpaint(image, keep, strength=0.1, **kw))
    with pytest.raises(ValueError, match="content must be"):
        list(tiny_pipe.inpaint(image, keep, strength=0.5, seed=1, content="noise"))


def test_outpaint_and_reroll_below_strength_one_start_from_the_picture(tiny_pipe) -> None:
    p = tiny_pipe.p
    image = torch.linspace(-1, 1, 4 * p).view(1, 1, 1, -1).expand(1, 3, 2 * p, 4 * p).clone()
    kw = {"seed": 2, "steps": 4, "sampler": "ddim", "strength": 0.25}
    out = run(tiny_pipe.outpaint(image, (0, p, 0, 0), feather_px=0, **kw))
    assert (out[..., 4 * p :] - mirror_fill(*_grown(image, p))[..., 4 * p :]).abs().mean() < 0.1
    rolled = run(tiny_pipe.reroll(image, (p, 0, p, p), blur=0, **kw))
    assert (rolled - image).abs().mean() < 0.05  # a light variation of the box, not a new one
    # strength 1 paints the box anew (the untrained model's detail, kept here: matching it to the smooth
    # ramp around would flatten it, which test_harmonize covers)
    new = run(tiny_pipe.reroll(image, (p, 0, p, p), blur=0, seed=2, steps=4, match_detail=False))
    assert (new - image).abs().mean() > 0.05


def _grown(image: torch.Tensor, p: int) -> tuple[torch.Tensor, tuple[int, int, int, int]]:
    canvas, _, (top, left) = grow_canvas(image, (0, p, 0, 0), p)
    return canvas, (top, left, *image.shape[-2:])
