"""The command line under hostile files and odd names (security and reliability II, CLI half): masks mean what
the app means, pictures are read as a viewer shows them, pipes and non-UTF-8 names are refused before any
work, weights are checked by value, outputs are checked before the work and never left half-written,
integers stay exact, PNG parameters cannot be spoofed, and Ctrl-C is one line at every moment."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from app.tabs.inpaint import painted_pixels
from patchdm_core import PatchDM, tiny
from patchdm_core.cli.main import main
from patchdm_core.model.weights import save_weights
from patchdm_core.runtime.images import parse_infotext, repaint_mask

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--random-init", "tiny"]


def _one_error(capsys, code: int) -> str:
    cap = capsys.readouterr()
    lines = [line for line in cap.err.replace("\r", "\n").splitlines() if line.strip() and "%|" not in line]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, cap.err[-400:])
    assert "Traceback" not in cap.err + cap.out
    return lines[0]


@pytest.fixture(scope="module")
def picture(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("pics") / "good.png"
    Image.fromarray(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)).save(path)
    return path


# -- 6. masks mean the same everywhere ---------------------------------------------------------------


def test_a_transparent_mask_keeps_what_the_app_keeps(picture: Path, tmp_path: Path, capsys) -> None:
    strokes = np.zeros((32, 48, 4), np.uint8)
    strokes[8:24, 16:32] = (255, 46, 136, 200)  # an app-style stroke layer: transparent = keep
    Image.fromarray(strokes, "RGBA").save(tmp_path / "strokes.png")
    mask = Image.open(tmp_path / "strokes.png")
    assert np.array_equal(repaint_mask(mask), painted_pixels(mask))  # one rule, CLI and app
    out = tmp_path / "o.png"
    argv = ["inpaint", *TINY, "--image", str(picture), "--mask", str(tmp_path / "strokes.png"), "--steps", "2"]
    assert main([*argv, "--blur", "0", "-o", str(out)]) == 0
    capsys.readouterr()
    a, b = np.asarray(Image.open(out)), np.asarray(Image.open(picture))
    keep = ~repaint_mask(mask)
    assert np.array_equal(a[keep], b[keep]) and not np.array_equal(a[~keep], b[~keep])
    Image.new("RGBA", (48, 32), (255, 255, 255, 0)).save(tmp_path / "clear.png")  # white, but all transparent
    code = main([*argv[:5], "--mask", str(tmp_path / "clear.png"), "-o", str(tmp_path / "x.png")])
    assert "mask is empty" in _one_error(capsys, code) and not (tmp_path / "x.png").exists()


# -- 7. pictures as a viewer shows them; every mode works or is refused ------------------------------


def test_exif_orientation_is_applied_to_pictures_and_masks(tmp_path: Path) -> None:
    shown = np.zeros((32, 48, 3), np.uint8)
    shown[:, :24] = 255  # as shown: white left half, 48 wide, 32 high
    stored = Image.fromarray(np.rot90(shown, k=1).copy())  # stored sideways (32 wide, 48 high)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to show (np.rot90 turned it the other way)
    stored.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    mask = np.zeros((32, 48), np.uint8)
    mask[8:24, 30:40] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")  # painted on the picture as it is shown
    out = tmp_path / "o.png"
    argv = ["inpaint", *TINY, "--image", str(tmp_path / "phone.jpg"), "--mask", str(tmp_path / "mask.png")]
    assert main([*argv, "--steps", "1", "-o", str(out)]) == 0
    result = np.asarray(Image.open(out))
    assert result.shape[:2] == (32, 48) and result[:, :20].mean() > 200 and result[:, 44:].mean() < 60
    assert main(["img2img", *TINY, "--image", str(tmp_path / "phone.jpg"), "--strength", "0", "-o", str(out)]) == 0
    assert Image.open(out).size == (48, 32)  # not sideways


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "CMYK", "YCbCr", "LAB", "I", "F", "LA", "I;16"])
def test_every_mode_pillow_writes_works_or_is_one_sentence(mode: str, tmp_path: Path, capsys) -> None:
    ramp = np.tile(np.linspace(0, 1, 48), (32, 1))  # dark left, bright right
    if mode == "F":
        img = Image.fromarray(ramp.astype(np.float32), "F")  # 0..1 floats: not black
    elif mode == "I;16":
        img = Image.fromarray((ramp * 65535).astype(np.uint16))
    else:
        img = Image.fromarray((ramp * 255).astype(np.uint8)).convert("RGB").convert(mode)
    path = tmp_path / f"pic-{mode.replace(';', '')}.tiff"
    img.save(path)
    out = tmp_path / "o.png"
    code = main(["img2img", *TINY, "--image", str(path), "--strength", "0", "-o", str(out)])
    if code == 0:
        result = np.asarray(Image.open(out).convert("L"), dtype=float)
        assert result[:, -4:].mean() > result[:, :4].mean() + 100, mode  # the ramp survives, not blackened
    else:  # refused in one sentence (Pillow cannot decode its own YCbCr TIFF: "damaged")
        assert _one_error(capsys, code) and not out.exists()


# -- 8. files that are not regular files, names that are not text -------------------------------------


def test_a_pipe_given_as_weights_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "w.safetensors"
    os.mkfifo(fifo)
    cmd = [sys.executable, "-m", "patchdm_core", "generate", "--weights", str(fifo), "-o", str(tmp_path / "o.png")]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)  # a hang fails here
    assert done.returncode == 2 and "not a regular file" in done.stderr and "Traceback" not in done.stderr


def test_a_name_that_is_not_utf8_is_refused_before_any_work(tmp_path: Path, capsys) -> None:
    bad = os.fsdecode(bytes(tmp_path) + b"/wall\xff.png")
    code = main(["generate", *TINY, "--size", "64x32", "-o", bad])
    assert "not valid UTF-8" in _one_error(capsys, code) and not list(tmp_path.iterdir())


# -- 9. weights checked by value -----------------------------------------------------------------------


def _weights(path: Path, edit=None, tensor_nan: bool = False) -> Path:
    pipe = PatchDM.random_init(tiny(), device="cpu")
    save_weights(path, pipe.model, pipe.cfg)
    if edit or tensor_nan:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta, state = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
        cfg = json.loads(meta["config"])
        if edit:
            edit(cfg)
        if tensor_nan:
            key = next(k for k, v in state.items() if v.is_floating_point())
            state[key] = torch.full_like(state[key], float("nan"))
        save_file(state, str(path), metadata={**meta, "config": json.dumps(cfg)})
    return path


@pytest.mark.parametrize(
    "case, edit, words",
    [
        ("patch size 0", lambda c: c["unet"].update(patch_size=0), "patch_size"),
        ("guidance text", lambda c: c["sampling"].update(guidance="high"), "guidance"),
        ("guidance NaN", lambda c: c["sampling"].update(guidance=float("nan")), "guidance"),
        ("zero timesteps", lambda c: c["diffusion"].update(timesteps=0), "timesteps"),
        ("negative beta", lambda c: c["diffusion"].update(beta_start=-0.1), "beta_start"),
        ("absurd steps", lambda c: c["sampling"].update(steps=10**9), "steps"),
        ("latent beta 2", lambda c: c["latent"].update(beta=2.0), "beta"),
        ("tensor NaN", None, "NaN"),
    ],
)
def test_weights_with_bad_values_are_one_refusal_naming_the_file_and_field(
    tmp_path: Path, capsys, case: str, edit, words: str
) -> None:
    path = _weights(tmp_path / "bad.safetensors", edit, tensor_nan=edit is None)
    out = tmp_path / "o.png"
    line = _one_error(capsys, main(["generate", "--weights", str(path), "--size", "32x32", "-o", str(out)]))
    assert "bad.safetensors" in line and words in line and "--" not in line.split(":", 2)[-1], line
    assert not out.exists()


# -- 10. outputs checked before the work, never half-written --------------------------------------------


@pytest.mark.parametrize(
    "argv, words",
    [
        (["train-latent", "--weights", "{w}", "--data", "{d}", "--out", "/proc/patchdm.safetensors"], "cannot write"),
        (["train-latent", "--weights", "{w}", "--data", "{d}", "--out", "{t}/x.json"], ".safetensors"),
        (["bench-train", "--config", "tiny", "--seconds", "1", "--out", "/proc/patchdm.json"], "cannot write"),
        (["train", "--data", "{d}", "--config", "tiny", "--out", "/proc/patchdm-run"], "cannot write"),
        (["eval", *TINY, "--data", "{d}", "--out", "/proc/patchdm-eval"], "cannot write"),
        (["generate", *TINY, "--style", "{t}/none.png", "-o", "{t}/new/folder/x.png"], "does not exist"),
    ],
)
def test_every_output_is_checked_before_the_work_and_a_refusal_leaves_nothing(
    tmp_path: Path, capsys, picture: Path, argv: list, words: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    Image.open(picture).resize((96, 64)).save(data / "a.png")
    weights = _weights(tmp_path / "w.safetensors")
    before = {p for p in tmp_path.rglob("*")}
    filled = [a.format(w=weights, d=data, t=tmp_path) for a in argv]
    start = time.perf_counter()
    line = _one_error(capsys, main(filled))
    assert words in line and time.perf_counter() - start < 20, line  # refused before training or benchmarking
    assert {p for p in tmp_path.rglob("*")} == before  # no folder made, nothing written


def test_a_full_disk_during_the_save_names_the_file_and_leaves_no_part(tmp_path: Path, capsys, monkeypatch) -> None:
    def full(self, fp, *a, **k):
        fp.write(b"\x89PNG partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full)
    out = tmp_path / "wall.png"
    line = _one_error(capsys, main(["generate", *TINY, "--size", "32x32", "--steps", "1", "-o", str(out)]))
    assert "No space left on device" in line and str(out) in line
    assert list(tmp_path.iterdir()) == []


def test_the_cli_removes_temporary_files_of_killed_writers(tmp_path: Path) -> None:
    stale = tmp_path / ".tmp-999999999-abcdef.png"  # a writer whose process is gone
    stale.write_bytes(b"half a picture")
    assert main(["generate", *TINY, "--size", "32x32", "--steps", "1", "-o", str(tmp_path / "o.png")]) == 0
    assert not stale.exists() and (tmp_path / "o.png").exists()


# -- 11. numbers as what they are; parameters that cannot be spoofed -------------------------------------


def test_integers_stay_exact_and_parameters_cannot_be_spoofed(tmp_path: Path, picture: Path) -> None:
    sly = tmp_path / "ref, Seed: 1, Model: evil.png"
    sly.write_bytes(picture.read_bytes())
    out = tmp_path / "o.png"
    for seed in (2**53 + 1, 2**63 - 1):
        argv = ["generate", *TINY, "--size", "32x32", "--steps", "1", "--seed", str(seed), "--style", str(sly)]
        assert main([*argv, "-o", str(out)]) == 0
        params = parse_infotext(Image.open(out).info["parameters"])
        assert params["Seed"] == str(seed) and params["Style"] == str(sly) and params["Model"] == "tiny-untrained"


# -- 12. Ctrl-C ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.5, 5.0])
def test_ctrl_c_at_any_moment_is_one_line_exit_130_and_writes_nothing(tmp_path: Path, delay: float) -> None:
    """0.3 s: torch is still loading (start-up); later: the model loads, then samples. A Ctrl-C in the first
    ~20 ms, before Python has reached the package at all, is Python's own (its KeyboardInterrupt)."""
    out = tmp_path / "o.png"
    cmd = [sys.executable, "-m", "patchdm_core", "generate", *TINY, "--size", "256x128", "--steps", "60"]
    proc = subprocess.Popen([*cmd, "-o", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    lines = [line for line in err.splitlines() if line.strip() and "%|" not in line and "step/s" not in line]
    assert proc.returncode == 130, (delay, err[-500:])
    assert lines[-1:] == ["interrupted"] and "Traceback" not in err, (delay, err[-500:])
    assert list(tmp_path.iterdir()) == []
