"""Every command with every class of bad input: one `error:` line, exit code 2, no traceback, nothing written.

The table below is the CLI's attack surface (files, numbers, paths, weights, devices); odd but valid
pictures (16-bit, RGBA, palette, greyscale) must work instead.
"""

from __future__ import annotations

import pickle
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors.torch import save_file

from patchdm_core.cli.main import main

TINY = ["--random-init", "tiny"]


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height RGB pixels but carries almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    good = Image.fromarray(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8))
    good.save(d / "good.png")
    mask = np.zeros((32, 48), np.uint8)
    mask[8:24, 16:32] = 255
    Image.fromarray(mask).save(d / "mask.png")
    Image.fromarray(mask[:16]).save(d / "mask-small.png")
    Image.new("L", (48, 32), 0).save(d / "mask-empty.png")
    (d / "empty.png").write_bytes(b"")
    (d / "text.png").write_text("not a picture at all\n")
    data = (d / "good.png").read_bytes()
    (d / "truncated.png").write_bytes(data[: len(data) // 2])
    (d / "bomb.png").write_bytes(_png_header_only(60000, 60000))
    (d / "folder.png").mkdir()
    save_file({"x": __import__("torch").zeros(2)}, str(d / "foreign.safetensors"), metadata={"format": "other"})
    (d / "pickle.safetensors").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    (d / "truncated.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{")
    listed = {"format": "patchdm/1", "config": "[1, 2, 3]"}  # valid JSON, but not an object
    save_file({"x": __import__("torch").zeros(2)}, str(d / "list-config.safetensors"), metadata=listed)
    (d / "data").mkdir()
    good.resize((96, 64)).save(d / "data" / "a.png")
    # odd but valid pictures: 16-bit greyscale, RGBA, palette, greyscale
    Image.fromarray((rng.integers(0, 65535, (32, 48))).astype(np.uint16)).save(d / "grey16.png")
    Image.fromarray(rng.integers(0, 256, (32, 48, 4), dtype=np.uint8), "RGBA").save(d / "rgba.png")
    good.convert("P").save(d / "palette.png")
    good.convert("L").save(d / "grey.png")
    return {p.stem if p.suffix != ".safetensors" else p.name: p for p in d.iterdir()}


def _cases(f: dict[str, Path], out: str) -> list[tuple[str, list[str], str]]:
    """(id, argv, expected words) for every bad input."""
    gen = ["generate", *TINY, "--size", "64x32", "-o", out]
    inp = ["inpaint", *TINY, "--image", str(f["good"]), "--mask", str(f["mask"]), "-o", out]
    outp = ["outpaint", *TINY, "--image", str(f["good"]), "--extend", "0,32,0,0", "-o", out]
    rer = ["reroll", *TINY, "--image", str(f["good"]), "--box", "0,0,16,16", "-o", out]
    i2i = ["img2img", *TINY, "--image", str(f["good"]), "-o", out]
    ups = ["upscale", *TINY, "--image", str(f["good"]), "--scale", "2", "-o", out]
    train_cpu = ["train", "--data", str(f["data"]), "--out", out[:-4], "--device", "cpu"]
    cases = []
    cases += [
        ("generate --palette-strength without --style", [*gen, "--palette-strength", "0.5"], "needs --style"),
        ("generate --palette-strength 2", [*gen, "--style", str(f["good"]), "--palette-strength", "2"], "palette"),
        (
            "generate --layout-palette style without --style",
            [*gen, "--composition", "designed", "--layout-palette", "style"],
            "needs --style",
        ),
        ("generate --composition spiral", [*gen, "--composition", "spiral"], "invalid choice"),
        ("generate --layout-family cubes", [*gen, "--composition", "designed", "--layout-family", "cubes"], "invalid"),
        ("generate --structure-strength 2", [*gen, "--composition", "designed", "--structure-strength", "2"], "struct"),
        ("generate --structure-band 1", [*gen, "--composition", "designed", "--structure-band", "1"], "band"),
        ("generate --layout-from missing", [*gen, "--layout-from", str(f["good"]) + ".nope"], "does not exist"),
        ("generate --layout-from text", [*gen, "--layout-from", str(f["text"])], "not a PNG"),
    ]
    # numbers: 0, negative, huge, NaN, inf, text
    for flag, values in {
        "--steps": ["0", "-3", "100000", "nan", "inf", "ten", "2.5"],
        "--guidance": ["-1", "1e308", "nan", "inf", "high"],
        "--eta": ["-0.1", "2", "nan"],
        "--seed": ["-7", str(2**64), "abc"],
        "--chunk": ["0", "-1"],
        "--max-pixels": ["0", "-5", "lots"],
    }.items():
        cases += [(f"generate {flag} {v}", [*gen, flag, v], flag.lstrip("-")) for v in values]
    cases += [
        ("generate --stride 0", [*gen, "--mode", "sliding", "--stride", "0"], "stride"),
        ("generate --stride beyond a patch", [*gen, "--mode", "sliding", "--stride", "40"], "stride"),
        ("generate --size 0x0", [*gen, "--size", "0x0"], "size"),
        ("generate --size 100000x100000", [*gen, "--size", "100000x100000"], "size"),
        ("generate --size over --max-pixels", [*gen, "--size", "4096x4096"], "over the limit"),
        ("generate --size text", [*gen, "--size", "big"], "size"),
        ("generate --tileable naive", [*gen, "--tileable", "--mode", "naive"], "tileable"),
        ("generate --sampler euler", [*gen, "--sampler", "euler"], "invalid choice"),
        ("generate --grid wobbly", [*gen, "--grid", "wobbly"], "invalid choice"),
        ("generate --style missing", [*gen, "--style", str(f["good"]) + ".nope"], "does not exist"),
        ("generate --style text", [*gen, "--style", str(f["text"])], "not a PNG"),
        ("generate --style bomb", [*gen, "--style", str(f["bomb"])], "60000×60000"),
        ("generate --style empty", [*gen, "--style", str(f["empty"])], "empty"),
        ("generate --style truncated", [*gen, "--style", str(f["truncated"])], "damaged"),
        ("generate --style folder", [*gen, "--style", str(f["folder"])], "not a file"),
        # paths
        ("generate -o .jpg", [*gen[:-1], out[:-4] + ".jpg"], ".png"),
        ("generate -o folder", [*gen[:-1], str(f["folder"])], "folder"),
        ("generate -o /proc", [*gen[:-1], "/proc/patchdm.png"], "cannot write"),
        ("generate -o /sys", [*gen[:-1], "/sys/x/patchdm.png"], "cannot write"),
        # weights and devices
        ("generate --weights missing", ["generate", "--weights", "/nope.safetensors", "-o", out], "not found"),
        ("generate --weights foreign", ["generate", "--weights", str(f["foreign.safetensors"]), "-o", out], "format"),
        ("generate --weights pickle", ["generate", "--weights", str(f["pickle.safetensors"]), "-o", out], "readable"),
        ("generate --weights truncated", ["generate", "--weights", str(f["truncated.safetensors"]), "-o", out], "read"),
        ("generate --weights folder", ["generate", "--weights", str(f["folder"]), "-o", out], "not a file"),
        (
            "generate --weights with a list for its config",
            ["generate", "--weights", str(f["list-config.safetensors"]), "-o", out],
            "must be a JSON object",
        ),
        # what this machine can do: memory for the canvas, threads, path lengths
        (
            "generate over the free memory",
            [*gen, "--size", "65536x65536", "--max-pixels", str(2**32), "--steps", "1"],
            "of memory",
        ),
        ("generate --threads 1024", [*gen, "--size", "64x64", "--threads", "1024"], "threads must be"),
        ("generate -o a 300-character name", [*gen[:-1], str(Path(out).parent / ("a" * 296 + ".png"))], "at most 255"),
        ("generate -o a 5000-character path", [*gen[:-1], "/tmp/" + "abcdefghi/" * 500 + "x.png"], "at most 4095"),
        ("generate --device bogus", [*gen, "--device", "bogus"], "unknown device"),
        ("generate --device cuda", [*gen, "--device", "cuda"], "no CUDA GPU"),
        ("generate --device tpu:0", [*gen, "--device", "tpu:0"], "device"),
        # inpaint
        ("inpaint --blur -5", [*inp, "--blur", "-5"], "blur"),
        ("inpaint --blur nan", [*inp, "--blur", "nan"], "blur"),
        ("inpaint --margin -1", [*inp, "--margin", "-1"], "margin"),
        ("inpaint --jump 0", [*inp, "--jump", "0"], "jump"),
        ("inpaint --resample 0", [*inp, "--resample", "0"], "resample"),
        ("inpaint --method magic", [*inp, "--method", "magic"], "invalid choice"),
        ("inpaint --strength 2", [*inp, "--strength", "2"], "strength"),
        ("inpaint --strength nan", [*inp, "--strength", "nan"], "strength"),
        ("inpaint --strength too low", [*inp, "--strength", "0.05", "--steps", "4"], "raise the strength"),
        ("inpaint --content noise", [*inp, "--content", "noise"], "invalid choice"),
        ("outpaint --strength -1", [*outp, "--strength", "-1"], "strength"),
        ("inpaint --image missing", [*inp[:3], "--image", "/nope.png", *inp[5:]], "does not exist"),
        ("inpaint --image bomb", [*inp[:3], "--image", str(f["bomb"]), *inp[5:]], "60000×60000"),
        ("inpaint --image text", [*inp[:3], "--image", str(f["text"]), *inp[5:]], "not a PNG"),
        ("inpaint --image truncated", [*inp[:3], "--image", str(f["truncated"]), *inp[5:]], "damaged"),
        ("inpaint --mask bomb", [*inp[:5], "--mask", str(f["bomb"]), *inp[7:]], "60000×60000"),
        ("inpaint --mask wrong size", [*inp[:5], "--mask", str(f["mask-small"]), *inp[7:]], "mask is 48x16"),
        ("inpaint --mask empty", [*inp[:5], "--mask", str(f["mask-empty"]), *inp[7:]], "mask is empty"),
        # outpaint
        ("outpaint --extend 0,0,0,0", [*outp, "--extend", "0,0,0,0"], "nothing to extend"),
        ("outpaint --extend huge", [*outp, "--extend", "0,100000000,0,0"], "extend"),
        ("outpaint --extend negative", [*outp, "--extend", "0,-64,0,0"], "extend"),
        ("outpaint --extend three", [*outp, "--extend", "0,64,0"], "extend"),
        ("outpaint --extend over limit", [*outp, "--extend", "0,16000,0,0", "--max-pixels", "100000"], "grown"),
        ("outpaint --feather -1", [*outp, "--feather", "-1"], "feather"),
        ("outpaint --image bomb", [*outp[:3], "--image", str(f["bomb"]), *outp[5:]], "60000×60000"),
        # reroll
        ("reroll --box outside", [*rer, "--box", "40,0,16,16"], "not inside"),
        ("reroll --box negative", [*rer, "--box", "-1,0,16,16"], "box"),
        ("reroll --box empty", [*rer, "--box", "0,0,0,16"], "not inside"),
        ("reroll --blur 9999", [*rer, "--blur", "9999"], "blur"),
        # img2img / upscale
        ("img2img --strength 2", [*i2i, "--strength", "2"], "strength"),
        ("img2img --strength nan", [*i2i, "--strength", "nan"], "strength"),
        ("img2img --strength text", [*i2i, "--strength", "half"], "strength"),
        ("img2img --size huge", [*i2i, "--size", "30000x30000"], "over the limit"),
        ("img2img --image bomb", [*i2i[:3], "--image", str(f["bomb"]), *i2i[5:]], "60000×60000"),
        ("upscale --scale 0", [*ups, "--scale", "0"], "scale"),
        ("upscale --scale inf", [*ups, "--scale", "inf"], "scale"),
        ("upscale --scale and --size", [*ups, "--size", "96x64"], "not allowed with"),
        ("upscale over limit", [*ups, "--max-pixels", "3000"], "over the limit"),
        ("upscale -o .webp", [*ups[:-1], out[:-4] + ".webp"], ".png"),
        # training, latent, eval, bench, set-defaults
        ("train --data missing", ["train", "--data", "/nope", "--out", out[:-4]], "not a folder"),
        ("train --batch-size 0", ["train", "--data", str(f["data"]), "--out", out[:-4], "--batch-size", "0"], "batch"),
        ("train --lr nan", ["train", "--data", str(f["data"]), "--out", out[:-4], "--lr", "nan"], "lr"),
        ("train --minutes -1", ["train", "--data", str(f["data"]), "--out", out[:-4], "--minutes", "-1"], "minutes"),
        ("train --steps 0", ["train", "--data", str(f["data"]), "--out", out[:-4], "--steps", "0"], "steps"),
        ("train --speed fast", ["train", "--data", str(f["data"]), "--out", out[:-4], "--speed", "fast"], "lever"),
        ("train --speed cuda-graphs on cpu", [*train_cpu, "--speed", "cuda-graphs"], "needs a CUDA device"),
        ("train --lr-scaling linear", [*train_cpu, "--lr-scaling", "linear"], "lr-scaling"),
        ("bench-train --speed x", ["bench-train", "--config", "tiny", "--speed", "x"], "unknown speed lever"),
        ("train --t-min 5000", ["train", "--data", str(f["data"]), "--out", out[:-4], "--t-min", "5000"], "t-min"),
        ("train --image-size x", ["train", "--data", str(f["data"]), "--out", out[:-4], "--image-size", "x"], "size"),
        ("train --config nope", ["train", "--data", str(f["data"]), "--out", out[:-4], "--config", "nope"], "preset"),
        ("train --ema-extra 1.5", ["train", "--data", str(f["data"]), "--out", out[:-4], "--ema-extra", "1.5"], "ema"),
        ("train --ema-extra 2x", ["train", "--data", str(f["data"]), "--out", out[:-4], "--ema-extra", ".9,.9"], "EMA"),
        ("train --device bogus", ["train", "--data", str(f["data"]), "--out", out[:-4], "--device", "x"], "device"),
        (
            "train-latent --weights pickle",
            ["train-latent", "--weights", str(f["pickle.safetensors"]), "--data", str(f["data"])],
            "readable",
        ),  # noqa: E501
        (
            "train-latent --steps 0",
            ["train-latent", "--weights", "w", "--data", str(f["data"]), "--steps", "0"],
            "steps",
        ),
        ("eval --n 0", ["eval", *TINY, "--data", str(f["data"]), "--n", "0"], "n must"),
        ("eval --data missing", ["eval", *TINY, "--data", "/nope"], "not a folder"),
        ("eval --sizes bad", ["eval", *TINY, "--data", str(f["data"]), "--sizes", "64by32"], "size"),
        ("eval --etas nan", ["eval", *TINY, "--data", str(f["data"]), "--etas", "nan"], "eta"),
        ("bench --modes magic", ["bench", "--config", "tiny", "--modes", "magic"], "unknown mode"),
        ("bench --chunks 0", ["bench", "--config", "tiny", "--chunks", "0"], "chunk"),
        ("bench --repeats 0", ["bench", "--config", "tiny", "--repeats", "0"], "repeats"),
        ("bench-train --seconds 0", ["bench-train", "--config", "tiny", "--seconds", "0"], "seconds"),
        ("bench-train --batch-size 0", ["bench-train", "--config", "tiny", "--batch-size", "0"], "batch-size"),
        (
            "bench-train --data missing",
            ["bench-train", "--config", "tiny", "--data", str(f["good"].parent / "no-such-folder")],
            "not a folder",
        ),
        ("bench-train --config magic", ["bench-train", "--config", "magic", "--seconds", "1"], "preset"),
        ("set-defaults --eta 3", ["set-defaults", "--weights", str(f["good"]), "--eta", "3"], "eta"),
        ("set-defaults on a picture", ["set-defaults", "--weights", str(f["good"]), "--steps", "3"], "readable"),
        ("unknown command", ["paint"], "invalid choice"),
        ("unknown flag", [*gen, "--colour", "red"], "unrecognized"),
    ]
    return cases


def test_the_table_is_large_and_its_ids_distinct(files: dict[str, Path], tmp_path: Path) -> None:
    ids = [c[0] for c in _cases(files, str(tmp_path / "o.png"))]
    assert len(ids) >= 60 and len(set(ids)) == len(ids)


def test_every_bad_input_is_one_error_line_exit_2_and_writes_nothing(
    files: dict[str, Path], tmp_path: Path, capsys
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    failures = []
    for case_id, argv, words in _cases(files, str(out_dir / "result.png")):
        code = main(argv)
        cap = capsys.readouterr()
        lines = [line for line in cap.err.splitlines() if line.strip()]
        problems = []
        if code != 2:
            problems.append(f"exit {code}")
        if "Traceback" in cap.err or "Traceback" in cap.out:
            problems.append("traceback")
        if len(lines) != 1 or not lines[0].startswith("error: "):
            problems.append(f"stderr {lines!r}")
        elif words.lower() not in lines[0].lower():
            problems.append(f"{words!r} not in {lines[0]!r}")
        if any(out_dir.iterdir()):
            problems.append(f"wrote {sorted(p.name for p in out_dir.iterdir())}")
        if problems:
            failures.append(f"{case_id}: {'; '.join(problems)}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("kind", ["grey16", "rgba", "palette", "grey"])
def test_odd_but_valid_pictures_are_accepted(files: dict[str, Path], tmp_path: Path, kind: str) -> None:
    out = tmp_path / f"{kind}.png"
    picture = str(files[kind])
    assert (
        main(["inpaint", *TINY, "--image", picture, "--mask", str(files["mask"]), "--steps", "1", "-o", str(out)]) == 0
    )
    assert Image.open(out).size == (48, 32)
    assert main(["generate", *TINY, "--size", "32x32", "--steps", "1", "--style", picture, "-o", str(out)]) == 0
