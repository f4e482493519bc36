from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from patchdm_core import run, to_pil
from patchdm_core.editing.img2img import denoise_steps, split_alpha
from patchdm_core.runtime.images import from_pil

SOLVERS = [
    pytest.param({}, id="ddim-fixed"),
    pytest.param({"sampler": "dpmpp-2m", "grid": "random"}, id="dpmpp-random"),
]


def _picture(h: int, w: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (1, 3, h, w), generator=g).float() / 127.5 - 1


def test_denoise_steps_follow_the_strength() -> None:
    assert [denoise_steps(12, s) for s in (0, 0.04, 0.5, 0.6, 1)] == [0, 0, 6, 7, 12]
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="strength must be between 0 and 1"):
            denoise_steps(12, bad)


def test_strength_zero_gives_the_picture_back_exactly(tiny_pipe) -> None:
    image = _picture(40, 56)
    steps = list(tiny_pipe.img2img(image, strength=0.0, seed=1, steps=4))
    assert len(steps) == 1 and steps[0].t == -1
    assert np.array_equal(np.asarray(to_pil(steps[0].x)), np.asarray(to_pil(image)))
    bigger = run(tiny_pipe.img2img(image, strength=0.0, seed=1, size=(80, 112)))
    lanczos = to_pil(image).resize((112, 80), Image.Resampling.LANCZOS)
    assert np.array_equal(np.asarray(to_pil(bigger)), np.asarray(lanczos))


@pytest.mark.parametrize("solver", SOLVERS)
def test_strength_one_is_generate_with_the_pictures_code(tiny_pipe, solver: dict) -> None:
    image = _picture(40, 56)
    z = tiny_pipe.encode_style(image)
    out = run(tiny_pipe.img2img(image, strength=1.0, seed=5, steps=4, **solver))
    assert torch.equal(out, run(tiny_pipe.generate(40, 56, seed=5, steps=4, z=z, **solver)))


@pytest.mark.parametrize("solver", SOLVERS)
def test_partial_strength_runs_part_of_the_ladder_and_keeps_the_picture_closer(tiny_pipe, solver: dict) -> None:
    image = _picture(48, 64)
    steps = list(tiny_pipe.img2img(image, strength=0.5, seed=2, steps=6, size=(48, 64), **solver))
    assert len(steps) == 3 and steps[0].total == 3 and steps[-1].t == -1
    out = steps[-1].x
    full = run(tiny_pipe.img2img(image, strength=1.0, seed=2, steps=6, **solver))
    assert (out - image).abs().mean() < (full - image).abs().mean()


def test_off_grid_sizes_and_tileable(tiny_pipe) -> None:
    image = _picture(30, 50)
    out = run(tiny_pipe.img2img(image, strength=0.7, seed=3, steps=4, size=(45, 70)))
    assert out.shape == (1, 3, 45, 70) and torch.isfinite(out).all()
    tiled = run(tiny_pipe.img2img(image, strength=0.7, seed=3, steps=4, size=(48, 64), tileable=True))
    assert tiled.shape == (1, 3, 48, 64)
    with pytest.raises(ValueError, match="tileable output needs the feature sampler"):
        run(tiny_pipe.img2img(image, strength=0.7, seed=3, tileable=True, mode="naive"))


def test_transparent_parts_of_a_sketch_are_painted_freely(tiny_pipe) -> None:
    rgba = np.zeros((32, 48, 4), np.uint8)
    rgba[:16, :, :] = (40, 120, 220, 255)  # painted sky; the lower half is transparent
    sketch = Image.fromarray(rgba, "RGBA")
    rgb, alpha = split_alpha(sketch)
    assert alpha is not None and alpha[..., :16, :].eq(1).all() and alpha[..., 16:, :].eq(0).all()
    assert rgb.getpixel((0, 31)) == (40, 120, 220)  # transparent areas take the painted colour
    steps = list(tiny_pipe.img2img(sketch, strength=0.5, seed=1, steps=4))
    assert steps[-1].total == 4  # the transparent half needs the whole ladder
    assert steps[-1].x.shape == (1, 3, 32, 48)
    with pytest.raises(ValueError, match="the sketch is empty"):
        run(tiny_pipe.img2img(Image.new("RGBA", (48, 32)), strength=0.5, seed=1))


def test_upscale_paints_at_the_new_size(tiny_pipe) -> None:
    image = _picture(32, 48)
    out = run(tiny_pipe.upscale(image, scale=2, seed=1, steps=4))
    assert out.shape == (1, 3, 64, 96)
    out = run(tiny_pipe.upscale(to_pil(image), size=(40, 100), seed=1, steps=4))
    assert out.shape == (1, 3, 40, 100)
    assert run(tiny_pipe.upscale(image, scale=2, seed=1, steps=4, strength=0)).shape == (1, 3, 64, 96)
    with pytest.raises(ValueError, match="scale"):
        run(tiny_pipe.upscale(image, seed=1))
    with pytest.raises(ValueError, match="strength"):
        run(tiny_pipe.upscale(image, scale=2, seed=1, strength=2))


def test_same_seed_same_picture(tiny_pipe) -> None:
    image = from_pil(to_pil(_picture(32, 48)))
    a = run(tiny_pipe.img2img(image, strength=0.6, seed=4, steps=4, grid="random", eta=0.5, sampler="dpmpp-2m"))
    b = run(tiny_pipe.img2img(image, strength=0.6, seed=4, steps=4, grid="random", eta=0.5, sampler="dpmpp-2m"))
    c = run(tiny_pipe.img2img(image, strength=0.6, seed=5, steps=4, grid="random", eta=0.5, sampler="dpmpp-2m"))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_cli_img2img_and_upscale_write_pngs_with_their_parameters(tmp_path) -> None:
    from patchdm_core.cli.main import main
    from patchdm_core.runtime.images import parse_infotext

    src = tmp_path / "in.png"
    to_pil(_picture(32, 48)).save(src)
    out = tmp_path / "out.png"
    common = ["--random-init", "tiny", "--image", str(src), "--steps", "4", "--seed", "3", "-o", str(out)]
    assert main(["img2img", *common, "--size", "96x64", "--strength", "0.5"]) == 0
    params = parse_infotext(Image.open(out).info["parameters"])
    assert Image.open(out).size == (96, 64) and params["Strength"] == "0.5" and params["Mode"] == "img2img"
    assert params["Source"] == "in.png (48x32)"
    assert main(["upscale", *common, "--scale", "2"]) == 0
    assert Image.open(out).size == (96, 64) and parse_infotext(Image.open(out).info["parameters"])["Mode"] == "upscale"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["img2img", "--strength", "1.5"], "strength must be a number between 0 and 1"),
        (["img2img", "--strength", "nan"], "strength must be a number between 0 and 1"),
        (["img2img", "--size", "8192x8192"], "over the limit"),
        (["upscale", "--scale", "16", "--max-pixels", "100000"], "over the limit"),
        (["upscale", "--scale", "-1"], "scale must be a number between 0.05 and 16"),
        (["upscale", "--size", "64x64", "--max-pixels", "100"], "over the limit"),
    ],
)
def test_cli_bad_input_is_one_error_line_and_writes_nothing(tmp_path, capsys, extra: list, message: str) -> None:
    from patchdm_core.cli.main import main

    src = tmp_path / "in.png"
    to_pil(_picture(32, 48)).save(src)
    out = tmp_path / "out.png"
    command, *rest = extra
    assert main([command, "--random-init", "tiny", "--image", str(src), "-o", str(out), *rest]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert not out.exists()


def test_cli_refuses_an_empty_sketch(tmp_path, capsys) -> None:
    from patchdm_core.cli.main import main

    src = tmp_path / "empty.png"
    Image.new("RGBA", (48, 32)).save(src)
    out = tmp_path / "out.png"
    assert main(["img2img", "--random-init", "tiny", "--image", str(src), "-o", str(out)]) == 2
    assert "the sketch is empty" in capsys.readouterr().err and not out.exists()
