"""Offline tests of scripts/prepare_wallpapers.py on a fake unpacked package tree."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
Image = pytest.importorskip("PIL.Image")

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "prepare_wallpapers.py"


def load_script():
    """Import the script as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("prepare_wallpapers", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


pw = load_script()


def pattern(seed: int, size: tuple[int, int]) -> Image.Image:
    """A smooth random RGB picture, so resized copies stay perceptually close."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
    return small.resize(size, Image.BICUBIC)


def fake_trees(tmp: Path) -> dict[str, Path]:
    """Two fake unpacked packages covering every kind of duplicate."""
    plasma = tmp / "unpacked" / "plasma-fake"
    images = plasma / "usr/share/wallpapers/Foo/contents/images"
    images.mkdir(parents=True)
    foo = pattern(1, (160, 100))
    for w, h in [(160, 100), (128, 80), (64, 40)]:  # the same picture at 3 sizes
        foo.resize((w, h), Image.BICUBIC).save(images / f"{w}x{h}.png")
    os.symlink("160x100.png", images / "96x60.png")  # a symlink
    os.symlink("/usr/share/wallpapers/Foo/contents/images/64x40.png", images / "32x20.png")  # an absolute one
    os.symlink("/usr/share/nowhere.png", images / "16x10.png")  # a dangling one
    os.link(images / "128x80.png", images / "112x70.png")  # a hard link
    dark = plasma / "usr/share/wallpapers/Foo/contents/images_dark"
    dark.mkdir()
    Image.fromarray(255 - np.asarray(foo)).save(dark / "160x100.png")  # a dark variant
    foo.resize((40, 25)).save(plasma / "usr/share/wallpapers/Foo/contents/screenshot.png")  # a preview
    (plasma / "usr/share/doc/plasma-fake").mkdir(parents=True)
    (plasma / "usr/share/doc/plasma-fake/copyright").write_text("License: GPL-2+\n")
    other = tmp / "unpacked" / "other-fake"
    bg = other / "usr/share/backgrounds/other"
    bg.mkdir(parents=True)
    shutil.copyfile(images / "128x80.png", bg / "Copy.png")  # an exact copy under another name
    foo.resize((120, 75), Image.BICUBIC).convert("RGB").save(bg / "Resized.jpg", quality=95)  # near-duplicate
    pattern(2, (150, 100)).save(bg / "Bar.png")  # unrelated picture
    pattern(3, (90, 60)).save(bg / "Bar_90x60.png")  # a named size variant of Bar
    (bg / "Vector.svg").write_text("<svg/>")
    return {"plasma-fake": plasma, "other-fake": other}


def test_picture_name_layouts() -> None:
    """Plasma's images/, images_dark/ and screenshot, and `<name>_<W>x<H>` files, are grouped by name."""
    assert pw.picture_name(Path("usr/share/wallpapers/Foo/contents/images/1920x1080.jpg"))[0] == "Foo"
    assert pw.picture_name(Path("usr/share/wallpapers/Foo/contents/images_dark/1920x1080.jpg"))[0] == "Foo-dark"
    light = pw.picture_name(Path("usr/share/wallpapers/Foo/contents/images/1x1.jpg"))[1]
    assert pw.picture_name(Path("usr/share/wallpapers/Foo/contents/screenshot.png"))[1] == light
    assert pw.picture_name(Path("bg/mate/Elephants_3840x2160.jpg")) == pw.picture_name(Path("bg/mate/Elephants.jpg"))


def test_build_keeps_each_picture_once(tmp_path: Path) -> None:
    """Only the largest Foo, Foo-dark and the largest Bar survive; the manifest and licences are written."""
    out = tmp_path / "out"
    manifest = pw.build(out, fake_trees(tmp_path), holdout=0.34, seed=0)
    kept = {f["file"].split("/", 1)[1]: f for f in manifest["files"]}
    assert set(kept) == {"plasma-fake__Foo.png", "plasma-fake__Foo-dark.png", "other-fake__Bar.png"}
    foo = kept["plasma-fake__Foo.png"]
    assert (foo["width"], foo["height"], foo["mode"], foo["opacity"]) == (160, 100, "RGB", 1.0)
    assert foo["source"] == "/usr/share/wallpapers/Foo/contents/images/160x100.png"
    reasons = {d["source"].rsplit("/", 1)[1]: d["reason"] for d in manifest["dropped"]}
    assert {reasons.pop("112x70.png"), reasons.pop("128x80.png")} == {"hard link", "smaller size"}  # same inode
    assert reasons == {
        "96x60.png": "symlink",
        "32x20.png": "symlink",
        "16x10.png": "broken symlink",
        "Copy.png": "exact copy",
        "64x40.png": "smaller size",
        "screenshot.png": "smaller size",
        "Bar_90x60.png": "smaller size",
        "Resized.jpg": "near duplicate",
    }
    s = manifest["summary"]
    assert (s["found"], s["duplicates"], s["svg_skipped"], s["train"], s["heldout"]) == (13, 10, 1, 2, 1)
    on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert on_disk == sorted(
        [f["file"] for f in manifest["files"]] + ["licenses/plasma-fake.copyright", "manifest.json"]
    )
    src = tmp_path / "unpacked/plasma-fake/usr/share/wallpapers/Foo/contents/images/160x100.png"
    assert (out / foo["file"]).read_bytes() == src.read_bytes()
    assert json.loads((out / "manifest.json").read_text()) == manifest


def test_split_is_deterministic() -> None:
    """The same seed gives the same split; about `holdout` of the names, at least one, are held out."""
    names = [f"pkg__{i}.png" for i in range(40)]
    a = pw.split(names, 0.1, seed=0)
    assert a == pw.split(list(reversed(names)), 0.1, seed=0)
    assert list(a.values()).count("heldout") == 4
    assert a != pw.split(names, 0.1, seed=1)
    assert list(pw.split(names[:3], 0.1, seed=0).values()).count("heldout") == 1
    assert set(pw.split(names, 0.0, seed=0).values()) == {"train"}


def test_build_rerun_is_identical(tmp_path: Path) -> None:
    """Running twice on the same trees gives the same files and splits."""
    trees = fake_trees(tmp_path)
    first = pw.build(tmp_path / "a", trees, holdout=0.34, seed=7)
    second = pw.build(tmp_path / "b", trees, holdout=0.34, seed=7)
    assert first == second


def test_missing_package_is_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """A missing apt-get is reported as a one-line error, not a traceback."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert pw.main(["--out", str(tmp_path / "out"), "--work", str(tmp_path / "w"), "--packages", "x"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: apt-get not found") and "\n" not in err
