from __future__ import annotations

import pytest
import torch

from patchdm_core.evaluation.metrics import (
    grain,
    mask_seam_score,
    seam_score,
    smooth_share,
    streaks,
    swd,
    thumbnail,
    wrap_seam_score,
)


def _smooth(h: int = 64, w: int = 128, seed: int = 0, periodic: bool = False) -> torch.Tensor:
    """A sum of random plane waves (no grid of its own); whole cycles across the width if periodic."""
    g = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    img = torch.zeros(1, 3, h, w)
    for _ in range(8):
        fx = (torch.randint(1, 5, (1,), generator=g).float() if periodic else torch.rand(1, generator=g) * 4) / w
        fy = torch.rand(1, generator=g) * 3 / h
        phase = torch.rand(3, 1, 1, generator=g) * 6.283
        img[0] += 0.15 * torch.sin(6.283 * (fx * x + fy * y) + phase)
    return img.clamp(-1, 1)


def test_seam_score_is_one_without_a_grid_and_high_with_one() -> None:
    img = _smooth()
    assert abs(seam_score(img, 16) - 1) < 0.1
    blocks = img + 0.3 * torch.repeat_interleave(torch.repeat_interleave(torch.randn(1, 3, 4, 8), 16, -2), 16, -1)
    assert seam_score(blocks.clamp(-1, 1), 16) > 3
    assert seam_score(blocks.clamp(-1, 1), 13) < 1.2  # a grid that is not there scores no seam


def test_wrap_seam() -> None:
    assert wrap_seam_score(_smooth(periodic=True), "x") < 1.2
    ramp = torch.linspace(-1, 1, 128).view(1, 1, 1, -1).expand(1, 3, 32, 128)
    assert wrap_seam_score(ramp, "x") > 50


def test_mask_seam() -> None:
    img, keep = _smooth(), torch.ones(1, 1, 64, 128)
    keep[..., 16:48, 32:96] = 0
    assert abs(mask_seam_score(img, keep) - 1) < 0.2
    pasted = torch.where(keep.bool(), img, img + 0.5)
    assert mask_seam_score(pasted.clamp(-1, 1), keep) > 3


def test_grain_is_low_on_smooth_pictures_and_measures_only_the_region_asked() -> None:
    img = _smooth()
    assert grain(img) < 2  # plane waves: the Laplacian of a slow sine is tiny on the 0..255 scale
    noisy = (img + 0.1 * torch.randn(img.shape, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    assert grain(noisy) > 10 * grain(img)
    half = torch.zeros(1, 1, 64, 128)
    half[..., 64:] = 1
    mixed = torch.where(half.bool(), noisy, img)
    assert grain(mixed, half) > 10 * grain(mixed, 1 - half)
    assert grain(torch.zeros(1, 3, 8, 8)) == 0
    with pytest.raises(ValueError, match="empty"):
        grain(img, torch.zeros(1, 1, 64, 128))


def test_streaks_tell_vertical_from_horizontal_detail() -> None:
    noise = torch.rand(1, 3, 64, 128, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert 0.9 < streaks(noise) < 1.1  # no preferred direction
    vertical = noise[..., :1, :].expand(1, 3, 64, 128)  # every row the same: stripes running down
    horizontal = noise[..., :1].expand(1, 3, 64, 128)
    assert streaks(vertical) > 100 and streaks(horizontal) < 0.01
    assert streaks(vertical.transpose(-1, -2)) < 0.01  # a picture turned by 90 degrees turns the ratio over


def test_swd_is_small_for_the_same_distribution_and_grows_with_a_difference() -> None:
    a = torch.cat([_smooth(seed=i) for i in range(8)])
    b = torch.cat([_smooth(seed=10 + i) for i in range(8)])
    noise = (b + 0.4 * torch.randn(b.shape, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    same, other = swd(a, b), swd(a, noise)
    assert set(same) >= {"mean"} and len(same) == 4  # 64 -> 32 -> 16 band-pass levels + residual
    finest = next(iter(same))
    assert other[finest] > 3 * same[finest] and other["mean"] > same["mean"]
    assert swd(a, a)["mean"] < same["mean"]


def test_eval_command_writes_a_table(tmp_path) -> None:
    import json

    from PIL import Image

    from patchdm_core.cli.main import main
    from tests.helpers import image_folder

    data = image_folder(tmp_path / "held", n=2, size=(80, 40))
    out = tmp_path / "ev"
    assert (
        main(
            [
                "eval",
                "--random-init",
                "tiny",
                "--data",
                str(data),
                "--n",
                "2",
                "--sizes",
                "64x32",
                "--modes",
                "feature,naive",
                "--grids",
                "fixed,alternate",
                "--positions",
                "absolute,stretch",
                "--samplers",
                "ddim:2",
                "--out",
                str(out),
                "--save-images",
            ]
        )
        == 0
    )
    rows = json.loads((out / "eval.json").read_text())["rows"]
    made = [(r["mode"], r["positions"], r["grid"]) for r in rows[1:]]
    assert rows[0]["setting"] == "held-out pictures"
    assert made == [
        ("feature", "absolute", "fixed"),
        ("feature", "absolute", "alternate"),
        ("feature", "stretch", "fixed"),
        ("feature", "stretch", "alternate"),
        ("naive", "absolute", "-"),
        ("naive", "stretch", "-"),
    ]
    assert all(r["seam"] > 0 for r in rows) and all(r["swd"] > 0 for r in rows[1:])
    table = (out / "eval.md").read_text()
    assert "| 64x32 | feature | stretch | alternate | ddim | 2 | 0 | 2 |" in table
    assert "| - | - | - |" in table  # a 64x32 canvas has too few 16-px patches for a lattice score
    assert Image.open(out / "images" / "64x32-naive---ddim2-eta0-absolute-1.png").size == (64, 32)
    assert (out / "images" / "64x32-feature-alternate-ddim2-eta0-stretch-0.png").exists()


def test_lattice_score_finds_a_grid_wherever_it_sits_and_ignores_single_edges() -> None:
    from patchdm_core.evaluation.metrics import lattice_score

    g = torch.Generator().manual_seed(0)
    texture = torch.rand(1, 3, 128, 256, generator=g) * 0.4 - 0.2
    assert lattice_score(texture, 16) < 1.25
    lattice = texture.clone()
    lattice[..., :, 5::16] += 0.3  # a column of every 16-px cell, off the canvas's own grid lines
    assert seam_score(lattice, 16) < 1.1 < 1.5 < lattice_score(lattice, 16)
    edge = texture.clone()
    edge[..., :, 100:] += 1.0  # one strong vertical edge of the picture is not a lattice
    assert lattice_score(edge, 16) < 1.25
    with pytest.raises(ValueError, match="too small"):
        lattice_score(torch.zeros(1, 3, 32, 32), 16)


def _blotches(h: int = 256, w: int = 512, size: int = 32, seed: int = 0) -> torch.Tensor:
    """A field of `size`-px paint blotches: random colours, smoothly upsampled (a textured colour field)."""
    g = torch.Generator().manual_seed(seed)
    small = torch.rand(1, 3, h // size, w // size, generator=g) * 1.2 - 0.6
    return torch.nn.functional.interpolate(small, size=(h, w), mode="bicubic", align_corners=False).clamp(-1, 1)


def test_smooth_share_tells_large_shapes_and_gradients_from_a_field_of_blotches() -> None:
    y = torch.linspace(-0.8, -0.2, 256)[:, None].expand(256, 512)  # a sky: 76 levels over 256 px
    sky = y.expand(1, 3, 256, 512).clone()
    sky[..., 160:, :] = 0.5  # a sharp horizon, then a flat field
    assert smooth_share(sky) > 0.9  # only the horizon's row of 1/8-scale pixels is not smooth
    assert smooth_share(_blotches()) < 0.3
    assert smooth_share(_blotches(size=128)) > smooth_share(_blotches(size=32))  # larger shapes, more smooth
    with pytest.raises(ValueError, match="under 16 px"):
        smooth_share(sky[..., :8, :])


def test_thumbnails_keep_the_layout_and_drop_the_texture() -> None:
    sky = torch.linspace(-0.6, 0.6, 256)[:, None].expand(1, 3, 256, 512)
    textured = (sky + 0.3 * torch.randn(1, 3, 256, 512, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    assert thumbnail(sky, 64).shape == (1, 3, 32, 64) and thumbnail(sky[..., :128], 64).shape == (1, 3, 64, 32)
    assert thumbnail(sky.transpose(-1, -2), 32).shape == (1, 3, 32, 16)  # portrait: the long side is the height
    assert (thumbnail(textured, 64) - thumbnail(sky, 64)).abs().mean() < (textured - sky).abs().mean() / 5
    levels = swd(thumbnail(textured, 64), thumbnail(sky, 64), min_size=8)
    assert len(levels) == 4  # 64 and 32 px bands, the 16x8 residual, the mean


def test_thumbnail_swd_sees_a_change_of_layout_that_full_size_swd_misses() -> None:
    """Same texture, the layout turned upside down in half the pictures: thumbnails see it."""
    noise = [0.15 * torch.randn(1, 3, 256, 512, generator=torch.Generator().manual_seed(i)) for i in range(8)]
    ramp = torch.linspace(-0.6, 0.6, 256)[:, None].expand(1, 3, 256, 512)
    real = torch.cat([(ramp + n).clamp(-1, 1) for n in noise[:4]])
    same = torch.cat([(ramp + n).clamp(-1, 1) for n in noise[4:]])
    flipped = torch.cat([(ramp.flip(-2) * (1 if i % 2 else 0) + n).clamp(-1, 1) for i, n in enumerate(noise[4:])])
    finest = next(iter(swd(same, real)))
    assert swd(flipped, real)[finest] < 1.5 * swd(same, real)[finest]  # the fine texture is the same
    t_same = swd(thumbnail(same, 64), thumbnail(real, 64), min_size=8)["mean"]
    t_flipped = swd(thumbnail(flipped, 64), thumbnail(real, 64), min_size=8)["mean"]
    assert t_flipped > 2 * t_same


def test_palette_distance_sees_colours_not_where_they_sit() -> None:
    from patchdm_core.evaluation.metrics import palette_distance

    sand = torch.tensor([0.6, 0.4, 0.1]).view(1, 3, 1, 1).expand(1, 3, 64, 128).clone()
    sand[..., :, 64:] = torch.tensor([-0.6, 0.2, 0.3]).view(1, 3, 1, 1)  # a teal half
    moved = sand.flip(-1).flip(-2)  # the same colours, elsewhere
    lilac = torch.tensor([0.3, -0.1, 0.5]).view(1, 3, 1, 1).expand(1, 3, 64, 128)
    assert palette_distance(sand, moved) < 1.0
    assert palette_distance(sand, lilac) > 50
    assert palette_distance(sand, lilac) == pytest.approx(palette_distance(lilac, sand), rel=0.05)
