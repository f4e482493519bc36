"""The composition stage: a layout bank (a PNG sheet of thumbnails), the seed's layout at any aspect, and
a canvas painted on it (img2img of the enlarged layout)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from patchdm_core import PatchDM, run
from patchdm_core.cli.main import main
from patchdm_core.editing.layout import LayoutBank


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


def test_compose_paints_on_the_layout(tiny_pipe: PatchDM) -> None:
    bank = _bank()
    x = run(tiny_pipe.compose(bank, 32, 64, seed=1, strength=0.5, steps=4))
    assert x.shape == (1, 3, 32, 64)
    layout = bank.layout(1, 32, 64)
    plain = run(tiny_pipe.generate(32, 64, seed=1, steps=4))
    # half the chain left: the canvas keeps the layout's bright top and dark bottom; noise alone does not
    assert (x[..., :16, 8:].mean() - x[..., 16:, 8:].mean()) > 0.5 * (
        layout[..., :16, 8:].mean() - layout[..., 16:, 8:].mean()
    )
    assert (x - layout).abs().mean() < (plain - layout).abs().mean()


def test_generate_composition_layouts_on_the_command_line(tmp_path: Path, capsys) -> None:
    bank = _bank().save(tmp_path / "bank.png")
    out = tmp_path / "x.png"
    args = ["generate", "--random-init", "tiny", "--size", "64x32", "--steps", "2", "--seed", "5", "-o", str(out)]
    assert main([*args, "--composition", "layouts", "--layouts", str(bank), "--layout-strength", "0.5"]) == 0
    assert Image.open(out).size == (64, 32)
    assert "Composition: layouts" in Image.open(out).text["parameters"]
    missing = tmp_path / "none.png"
    assert main([*args, "--composition", "layouts", "--layouts", str(missing)]) == 2
    assert "no layout bank at" in capsys.readouterr().err
    assert main([*args, "--composition", "layouts", "--layout-strength", "2"]) == 2


def test_a_sheet_with_a_zero_thumbnail_size_is_refused(tmp_path: Path) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for key, value in {"thumb": "64x0", "count": "1", "columns": "1"}.items():
        info.add_text(key, value)
    Image.new("RGB", (64, 32)).save(tmp_path / "zero.png", pnginfo=info)
    with pytest.raises(ValueError, match="must be positive"):
        LayoutBank.load(tmp_path / "zero.png")


def test_train_layout_then_generate_on_a_layout_the_model_samples(tmp_path: Path, capsys) -> None:
    from patchdm_core.editing.layout import layout_of
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
    from patchdm_core.editing.layout import sources_beside
    from patchdm_core.model.layout import LayoutModel, LayoutUNet, save_layout_model
    from tests.model.test_layout_model import TINY

    weights = tmp_path / "mine.safetensors"
    assert sources_beside(weights) == ({}, [])  # neither file: no composition but none
    _bank().save(tmp_path / "mine-layouts.png")
    save_layout_model(tmp_path / "mine-layout.safetensors", LayoutUNet(TINY))
    found, problems = sources_beside(weights)
    assert isinstance(found["layouts"], LayoutBank) and isinstance(found["layout-model"], LayoutModel)
    assert problems == []
    (tmp_path / "mine-layout.safetensors").write_bytes(b"half a file")
    found, problems = sources_beside(weights)
    assert list(found) == ["layouts"]
    assert len(problems) == 1 and "Composition: layout-model is off" in problems[0]
