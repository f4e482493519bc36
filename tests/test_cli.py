from __future__ import annotations

import torch
from PIL import Image

from patchdm_core.checkpoint import save_weights
from patchdm_core.cli import main
from patchdm_core.images import parse_infotext


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
