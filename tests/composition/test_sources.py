"""Layout sources: a layout bank (a PNG sheet of thumbnails), the layout model, designed layouts and a picture,
the seed's layout at any aspect, and a canvas painted on it (structure guidance, or img2img)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from patchdm_core import PatchDM, run
from patchdm_core.cli.main import main
from patchdm_core.composition.sources import DesignedLayouts, LayoutBank, PictureLayout
from patchdm_core.sampling.noise import patch_seed


def _bank(n: int = 5) -> LayoutBank:
    """n thumbnails of 64x32: a bright top half over a dark bottom, each its own colour."""
    thumbs = torch.full((n, 3, 32, 64), -0.6)
    for i in range(n):
        thumbs[i, :, :16] = torch.tensor([0.8, 0.08 * i - 0.8, 0.1]).view(3, 1, 1)
    thumbs[:, :, :, :8] = 0.9  # a pale strip at the left edge: mirrored seeds put it right
    return LayoutBank(thumbs)


def test_a_bank_survives_its_png_sheet_and_refuses_other_pictures(tmp_path: Path) -> None:
    bank = _bank(21)
    path = bank.save(tmp_path / "layouts.png", columns=4)
    back = LayoutBank.load(path)
    assert len(back) == 21 and (back.thumbs - bank.thumbs).abs().max() <= 1 / 127.5 + 1e-6  # 8-bit
    Image.new("RGB", (64, 32)).save(tmp_path / "plain.png")
    with pytest.raises(ValueError, match="not a layout bank"):
        LayoutBank.load(tmp_path / "plain.png")
    (tmp_path / "text.png").write_text("no picture")
    with pytest.raises(ValueError, match="cannot read the layout bank"):
        LayoutBank.load(tmp_path / "text.png")
    with pytest.raises(ValueError, match=r"\[N, 3, h, w\]"):
        LayoutBank(torch.zeros(0, 3, 32, 64))


def test_the_seed_picks_the_layout_and_the_canvas_aspect_crops_it() -> None:
    bank = _bank()
    a, b = bank.layout(3, 128, 256), bank.layout(3, 128, 256)
    assert a.shape == (1, 3, 128, 256) and torch.equal(a, b)  # the same seed, the same layout
    layouts = [bank.layout(seed, 64, 128) for seed in range(24)]
    assert len({tuple(x[0, :, 8, 64].tolist()) for x in layouts}) > 2  # several thumbnails are used
    mirrored = [x for x in layouts if x[0, 0, 40, -2] > x[0, 0, 40, 1]]
    assert 0 < len(mirrored) < len(layouts)  # some seeds mirror it
    tall = bank.layout(0, 256, 64)  # a portrait canvas gets the middle of the thumbnail, still top over bottom
    assert tall.shape == (1, 3, 256, 64) and tall[0, 0, :100].mean() > tall[0, 0, -100:].mean() + 0.5
    wide = bank.layout(0, 32, 256)  # wider than 2:1: the middle rows, the full width
    assert wide.shape == (1, 3, 32, 256)


@pytest.mark.parametrize("how", ["structure", "img2img"])
def test_compose_paints_on_the_layout(tiny_pipe: PatchDM, how: str) -> None:
    bank = _bank()
    x = run(tiny_pipe.compose(bank, 32, 64, seed=1, how=how, strength=0.5, steps=4))
    assert x.shape == (1, 3, 32, 64)
    layout = bank.layout(patch_seed(1, -3, -3), 32, 64)
    plain = run(tiny_pipe.generate(32, 64, seed=1, steps=4))
    # the canvas keeps the layout's bright top and dark bottom; noise alone does not
    assert (x[..., :16, 8:].mean() - x[..., 16:, 8:].mean()) > 0.5 * (
        layout[..., :16, 8:].mean() - layout[..., 16:, 8:].mean()
    )
    assert (x - layout).abs().mean() < (plain - layout).abs().mean()
    with pytest.raises(ValueError, match="unknown way to bring in a layout"):
        next(tiny_pipe.compose(bank, 32, 64, seed=1, how="collage"))


def test_the_layout_seed_picks_the_layout_apart_from_the_strokes(tiny_pipe: PatchDM) -> None:
    designs = DesignedLayouts()
    a = run(tiny_pipe.compose(designs, 32, 64, seed=1, layout_seed=7, steps=3))
    b = run(tiny_pipe.compose(designs, 32, 64, seed=2, layout_seed=7, steps=3))
    c = run(tiny_pipe.compose(designs, 32, 64, seed=1, steps=3))
    assert torch.equal(a, run(tiny_pipe.compose(designs, 32, 64, seed=1, layout_seed=7, steps=3)))
    thumb = lambda x: torch.nn.functional.avg_pool2d(x, 16)  # noqa: E731
    assert (thumb(a) - thumb(b)).abs().mean() < (thumb(a) - thumb(c)).abs().mean()  # same layout: same shapes
    assert not torch.equal(a, b)  # other strokes


def test_a_picture_gives_its_own_composition() -> None:
    picture = Image.new("RGB", (200, 100), (250, 240, 200))
    picture.paste((20, 40, 90), (0, 60, 200, 100))  # a dark band at the bottom
    layout = PictureLayout(picture).layout(9, 64, 128)
    assert layout.shape == (1, 3, 64, 128)
    assert layout[0, :, :30].mean() > 0.7 and layout[0, :, -10:].mean() < -0.4


def test_generate_composition_on_the_command_line(tmp_path: Path, capsys) -> None:
    bank = _bank().save(tmp_path / "bank.png")
    out = tmp_path / "x.png"
    args = ["generate", "--random-init", "tiny", "--size", "64x32", "--steps", "2", "--seed", "5", "-o", str(out)]
    assert main([*args, "--composition", "layouts", "--layouts", str(bank), "--compose-with", "img2img"]) == 0
    params = Image.open(out).text["parameters"]
    assert "Composition: training-layouts" in params and "Compose: img2img, Layout strength: 0.6" in params
    assert main([*args, "--composition", "designed", "--layout-family", "horizon", "--layout-seed", "11"]) == 0
    params = Image.open(out).text["parameters"]
    assert "Composition: designed, Layout seed: 11, Layout family: horizon, Compose: structure" in params
    assert main([*args, "--layout-from", str(bank), "--structure-strength", "0.5"]) == 0
    assert "Composition: picture" in Image.open(out).text["parameters"]
    missing = tmp_path / "none.png"
    assert main([*args, "--composition", "training-layouts", "--layouts", str(missing)]) == 2
    assert "no layout bank at" in capsys.readouterr().err
    assert main([*args, "--composition", "layouts", "--layout-strength", "2"]) == 2
    assert main([*args, "--composition", "designed", "--layout-palette", "style"]) == 2
    assert "needs --style" in capsys.readouterr().err


def test_a_sheet_with_a_zero_thumbnail_size_is_refused(tmp_path: Path) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for key, value in {"thumb": "64x0", "count": "1", "columns": "1"}.items():
        info.add_text(key, value)
    Image.new("RGB", (64, 32)).save(tmp_path / "zero.png", pnginfo=info)
    with pytest.raises(ValueError, match="must be positive"):
        LayoutBank.load(tmp_path / "zero.png")


def test_train_layout_then_generate_on_a_layout_the_model_samples(tmp_path: Path, capsys) -> None:
    from patchdm_core.composition.sources import layout_of
    from patchdm_core.model.layout import load_layout_model
    from tests.model.test_layout_model import sky_over_field

    data = sky_over_field(tmp_path / "data", n=3)
    model_file = tmp_path / "layout.safetensors"
    train = ["train-layout", "--data", str(data), "--out", str(model_file), "--thumb", "32x16", "--channels", "4"]
    train += ["--steps", "3"]
    assert main([*train, "--batch-size", "4"]) == 0
    assert "3 steps of 4" in capsys.readouterr().out
    model = load_layout_model(model_file)
    assert model.cfg.thumb == (16, 32) and model.cfg.channels == 4
    more = tmp_path / "more.safetensors"  # --init continues it: its config, steps and FLOPs carried on
    assert main([*train, "--batch-size", "4", "--init", str(model_file), "--channels", "6", "--out", str(more)]) == 0
    again = load_layout_model(more)
    assert again.cfg == model.cfg and again.metadata["train_steps"] == "3" and again.metadata["total_steps"] == "6"
    assert float(again.metadata["total_flop"]) == pytest.approx(2 * float(model.metadata["train_flop"]), rel=1e-3)
    a, b = layout_of(model, 5, 32, 96), layout_of(model, 5, 32, 96)
    assert a.shape == (1, 3, 32, 96) and torch.equal(a, b)  # a seed's layout, cropped to the canvas's aspect
    out = tmp_path / "x.png"
    args = ["generate", "--random-init", "tiny", "--size", "64x32", "--steps", "2", "--seed", "5", "-o", str(out)]
    assert main([*args, "--composition", "layout-model", "--layout-model", str(model_file)]) == 0
    assert "Composition: layout-model" in Image.open(out).text["parameters"]
    assert main([*args, "--composition", "layout-model", "--layout-model", str(tmp_path / "none.safetensors")]) == 2
    assert "no layout model at" in capsys.readouterr().err
    assert main([*args, "--composition", "layout-model", "--layout-model", str(data / "sky0.png")]) == 2
    assert "cannot read the layout model" in capsys.readouterr().err
    assert main([*train, "--out", str(tmp_path / "x.png")]) == 2  # not a .safetensors name
    assert main([*train, "--thumb", "30x15"]) == 2  # not divisible by 4: one line, no traceback
    assert "divisible" in capsys.readouterr().err
    assert main(["train-layout", "--data", str(tmp_path / "nothing"), "--out", str(model_file)]) == 2


def test_the_sources_beside_a_weights_file_are_found_and_a_broken_one_is_named(tmp_path: Path) -> None:
    from patchdm_core.composition.sources import sources_beside
    from patchdm_core.model.layout import LayoutModel, LayoutUNet, save_layout_model
    from tests.model.test_layout_model import TINY

    weights = tmp_path / "mine.safetensors"
    found, problems = sources_beside(weights)  # neither file: designed layouts only (they need no file)
    assert list(found) == ["designed"] and problems == []
    _bank().save(tmp_path / "mine-layouts.png")
    save_layout_model(tmp_path / "mine-layout.safetensors", LayoutUNet(TINY))
    found, problems = sources_beside(weights)
    assert isinstance(found["training-layouts"], LayoutBank) and isinstance(found["layout-model"], LayoutModel)
    assert problems == []
    (tmp_path / "mine-layout.safetensors").write_bytes(b"half a file")
    found, problems = sources_beside(weights)
    assert list(found) == ["designed", "training-layouts"]
    assert len(problems) == 1 and "Composition: layout-model is off" in problems[0]
