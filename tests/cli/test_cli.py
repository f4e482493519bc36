from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from patchdm_core.cli.main import main
from patchdm_core.model.weights import save_weights
from patchdm_core.runtime.images import parse_infotext


def test_generate_writes_png_of_exact_size_with_parameters(tmp_path, capsys) -> None:
    out = tmp_path / "a.png"
    assert (
        main(
            [
                "generate",
                "--random-init",
                "tiny",
                "--size",
                "50x30",
                "--seed",
                "7",
                "--steps",
                "2",
                "--guidance",
                "2",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    img = Image.open(out)
    assert img.size == (50, 30) and img.mode == "RGB"
    params = parse_infotext(img.info["parameters"])
    assert params["Steps"] == "2" and params["Seed"] == "7" and params["Size"] == "50x30"
    assert params["Sampler"] == "DDIM" and params["Mode"] == "feature" and params["Guidance"] == "2.0"
    assert params["Model"] == "tiny-untrained" and "Model hash" in params


def test_random_seed_is_resolved_and_saved(tmp_path, capsys) -> None:
    out = tmp_path / "b.png"
    assert main(["generate", "--random-init", "tiny", "--size", "32x32", "--steps", "1", "-o", str(out)]) == 0
    seed = parse_infotext(Image.open(out).info["parameters"])["Seed"]
    assert int(seed) >= 0 and f"seed: {seed}" in capsys.readouterr().out


def test_weights_file_is_used(tmp_path, tiny_pipe) -> None:
    w = save_weights(tmp_path / "w.safetensors", tiny_pipe.model, tiny_pipe.cfg, dtype=torch.float32)
    out = tmp_path / "c.png"
    assert (
        main(["generate", "--weights", str(w), "--size", "32x16", "--steps", "1", "--seed", "1", "-o", str(out)]) == 0
    )
    assert parse_infotext(Image.open(out).info["parameters"])["Model"] == "tiny"


def test_missing_weights_is_one_clear_error(tmp_path, capsys) -> None:
    code = main(["generate", "--weights", str(tmp_path / "none.safetensors"), "-o", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: weights file not found") and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()


def _png(path, size, color=(90, 120, 200)):
    Image.new("RGB", size, color).save(path)
    return path


def test_inpaint_outpaint_reroll_commands(tmp_path) -> None:
    src = _png(tmp_path / "in.png", (48, 32))
    mask = Image.new("L", (48, 32), 0)
    mask.paste(255, (16, 8, 32, 24))
    mask.save(tmp_path / "mask.png")
    base = ["--random-init", "tiny", "--steps", "2", "--seed", "3", "--image", str(src)]
    assert (
        main(
            [
                "inpaint",
                *base,
                "--mask",
                str(tmp_path / "mask.png"),
                "--blur",
                "2",
                "--model-detail",
                "-o",
                str(tmp_path / "i.png"),
            ]
        )
        == 0
    )
    out = Image.open(tmp_path / "i.png")  # the model's own detail: on this flat picture, matching would flatten it
    assert out.size == (48, 32) and out.getpixel((0, 0)) == (90, 120, 200) and out.getpixel((24, 16)) != (90, 120, 200)
    assert parse_infotext(out.info["parameters"])["Inpaint"] == "fast"
    assert parse_infotext(out.info["parameters"])["Detail"] == "model"
    assert main(["outpaint", *base, "--extend", "0,20,0,0", "-o", str(tmp_path / "o.png")]) == 0
    out = Image.open(tmp_path / "o.png")
    assert out.size == (80, 32) and parse_infotext(out.info["parameters"])["Extend"] == "0,20,0,0"
    assert main(["reroll", *base, "--box", "0,0,8,8", "-o", str(tmp_path / "r.png")]) == 0
    assert Image.open(tmp_path / "r.png").size == (48, 32)
    assert parse_infotext(Image.open(tmp_path / "r.png").info["parameters"])["Strength"] == "1.0"
    args = ["--mask", str(tmp_path / "mask.png"), "--strength", "0.5", "--content", "original"]
    assert main(["inpaint", *base, *args, "-o", str(tmp_path / "i2.png")]) == 0
    params = parse_infotext(Image.open(tmp_path / "i2.png").info["parameters"])
    assert params["Strength"] == "0.5" and params["Content"] == "original"
    assert params["Anchor"] == "8" and params["Detail"] == "matched"


def test_mask_of_another_size_is_a_clear_error(tmp_path, capsys) -> None:
    src = _png(tmp_path / "in.png", (48, 32))
    _png(tmp_path / "m.png", (20, 20), (255, 255, 255))
    code = main(
        [
            "inpaint",
            "--random-init",
            "tiny",
            "--image",
            str(src),
            "--mask",
            str(tmp_path / "m.png"),
            "-o",
            str(tmp_path / "x.png"),
        ]
    )
    assert code == 2 and "the mask is 20x20 but the picture is 48x32" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_generate_tileable(tmp_path) -> None:
    out = tmp_path / "t.png"
    assert (
        main(["generate", "--random-init", "tiny", "--size", "32x32", "--steps", "1", "--tileable", "-o", str(out)])
        == 0
    )
    assert parse_infotext(Image.open(out).info["parameters"])["Tileable"] == "xy"


def test_sampler_grid_and_eta_flags_override_the_model_defaults_and_are_recorded(tmp_path) -> None:
    out = tmp_path / "s.png"
    args = ["generate", "--random-init", "tiny", "--size", "32x32", "--steps", "3", "--seed", "1", "-o", str(out)]
    assert main(args) == 0
    params = parse_infotext(Image.open(out).info["parameters"])
    assert (params["Sampler"], params["Grid"], params["Eta"]) == ("DDIM", "fixed", "0.0")  # tiny()'s defaults
    first = np.asarray(Image.open(out))
    assert main([*args, "--sampler", "dpmpp-2m", "--grid", "random", "--eta", "0.5"]) == 0
    params = parse_infotext(Image.open(out).info["parameters"])
    assert (params["Sampler"], params["Grid"], params["Eta"], params["Steps"]) == ("DPM++ 2M", "random", "0.5", "3")
    assert not np.array_equal(np.asarray(Image.open(out)), first)


def test_unknown_sampler_or_grid_is_a_usage_error(capsys) -> None:
    for flag, value in (("--sampler", "euler"), ("--grid", "wobbly")):
        assert main(["generate", "--random-init", "tiny", flag, value, "-o", "x.png"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "invalid choice" in err and len(err.strip().splitlines()) == 1


def test_set_defaults_rewrites_the_weights_defaults(tmp_path, tiny_pipe, capsys) -> None:
    path = save_weights(tmp_path / "w.safetensors", tiny_pipe.model, tiny_pipe.cfg)
    assert main(["set-defaults", "--weights", str(path), "--sampler", "dpmpp-2m", "--steps", "9"]) == 0
    assert "sampler: dpmpp-2m (was ddim)" in capsys.readouterr().out
    out = tmp_path / "a.png"
    assert main(["generate", "--weights", str(path), "--size", "32x32", "--seed", "1", "-o", str(out)]) == 0
    params = parse_infotext(Image.open(out).info["parameters"])
    assert (params["Sampler"], params["Steps"]) == ("DPM++ 2M", "9")
    assert main(["set-defaults", "--weights", str(path), "--guidance-interval", "450-999"]) == 0
    assert "guidance_interval: (450, 999) (was (0, 999))" in capsys.readouterr().out
    assert main(["generate", "--weights", str(path), "--size", "32x32", "--seed", "1", "-o", str(out)]) == 0
    assert parse_infotext(Image.open(out).info["parameters"])["Guidance interval"] == "450-999"
    assert main(["set-defaults", "--weights", str(path), "--guidance-interval", "900-100"]) == 2
    assert main(["set-defaults", "--weights", str(path)]) == 2
    assert main(["set-defaults", "--weights", str(path), "--eta", "7"]) == 2
    assert "eta must be a number between 0 and 1" in capsys.readouterr().err
