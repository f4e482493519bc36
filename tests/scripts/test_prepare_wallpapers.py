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

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "prepare_wallpapers.py"


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
    (plasma / "usr/share/doc/plasma-fake/copyright").write_text("License: GPL-2+\n")  # free-form, not DEP-5
    (plasma / "usr/share/icons").mkdir()
    pattern(4, (48, 48)).save(plasma / "usr/share/icons/foo.png")  # an icon, not a wallpaper
    other = tmp / "unpacked" / "other-fake"
    bg = other / "usr/share/backgrounds/other"
    bg.mkdir(parents=True)
    shutil.copyfile(images / "128x80.png", bg / "Copy.png")  # an exact copy under another name
    foo.resize((120, 75), Image.BICUBIC).convert("RGB").save(bg / "Resized.jpg", quality=95)  # near-duplicate
    pattern(2, (150, 100)).save(bg / "Bar.png")  # unrelated picture
    pattern(3, (90, 60)).save(bg / "Bar_90x60.png")  # a named size variant of Bar
    (bg / "Vector.svg").write_text("<svg/>")
    (other / "usr/share/doc/other-fake").mkdir(parents=True)
    (other / "usr/share/doc/other-fake/copyright").write_text(dep5([("*", "GPL-2+"), ("Bar*.png", "CC-BY-SA-3.0")]))
    return {"plasma-fake": plasma, "other-fake": other}


def dep5(stanzas: list[tuple[str, str]]) -> str:
    """A machine-readable debian/copyright with the given (Files, License) stanzas."""
    text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: fake\n"
    for files, licence in stanzas:
        text += f"\nFiles: {files}\nCopyright: 2024 Someone\nLicense: {licence}\n"
    return text + "\nLicense: GPL-2+\n This is free software.\n .\n More text.\n"


def licensed_tree(tmp: Path) -> Path:
    """A fake package whose DEP-5 copyright gives its pictures free and non-free licences."""
    root = tmp / "unpacked" / "art-fake"
    bg = root / "usr/share/backgrounds"
    bg.mkdir(parents=True)
    for i, name in enumerate(["plain.jpg", "nd-1.jpg", "nd-2.jpg", "nc.png", "sa.jpg", "either.png", "mystery.png"]):
        pattern(10 + i, (120, 80)).convert("RGB").save(bg / name)
    (root / "usr/share/doc/art-fake").mkdir(parents=True)
    (root / "usr/share/doc/art-fake/copyright").write_text(
        dep5(
            [
                ("*", "GPL-2+"),
                ("art/nd-*.jpg\n       art/nc.png", "CC-BY-ND-4.0"),  # two patterns, continuation line
                ("art/nc.png", "CC-BY-NC-SA-4.0"),  # a later stanza wins
                ("20.04/sa.jpg", "CC-BY-SA-4.0"),  # a source-tree path: matched by file name
                ("backgrounds/either.png", "CC-BY-NC-4.0 or CC0-1.0"),
                ("mystery.png", "all-rights-reserved"),
            ]
        )
    )
    return root


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
    assert (s["packages"]["plasma-fake"]["not_wallpaper"], s["licence_dropped"]) == (1, 0)
    assert {f["file"].split("/")[1]: f["licence"] for f in manifest["files"]} == {
        "plasma-fake__Foo.png": pw.FREE_FORM,
        "plasma-fake__Foo-dark.png": pw.FREE_FORM,
        "other-fake__Bar.png": "CC-BY-SA-3.0",
    }
    on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert on_disk == sorted(
        [f["file"] for f in manifest["files"]]
        + ["licenses/plasma-fake.copyright", "licenses/other-fake.copyright", "manifest.json"]
    )
    src = tmp_path / "unpacked/plasma-fake/usr/share/wallpapers/Foo/contents/images/160x100.png"
    assert (out / foo["file"]).read_bytes() == src.read_bytes()
    assert json.loads((out / "manifest.json").read_text()) == manifest


def test_split_is_deterministic() -> None:
    """The same seed gives the same split; about `holdout` of the names, at least one, are held out."""
    names = [f"pkg__{i}.png" for i in range(1000)]
    a = pw.split(names, 0.1, seed=0)
    assert a == pw.split(list(reversed(names)), 0.1, seed=0)
    assert 70 <= list(a.values()).count("heldout") <= 130
    assert a != pw.split(names, 0.1, seed=1)
    assert list(pw.split(names[:3], 0.01, seed=0).values()).count("heldout") == 1  # at least one
    assert set(pw.split(names, 0.0, seed=0).values()) == {"train"}


def test_split_is_stable_when_pictures_are_added() -> None:
    """Adding (or removing) pictures never moves another picture; a previous split always wins."""
    names = [f"pkg__{i}.png" for i in range(300)]
    small = pw.split(names[:100], 0.1, seed=3)
    big = pw.split(names, 0.1, seed=3)
    assert {n: big[n] for n in small} == small
    assert "heldout" in small.values() and "train" in small.values()
    previous = {n: ("train" if v == "heldout" else "heldout") for n, v in small.items()}  # the opposite
    again = pw.split(names, 0.1, seed=3, previous=previous)
    assert {n: again[n] for n in previous} == previous
    assert {n: again[n] for n in names[100:]} == {n: big[n] for n in names[100:]}


def test_parse_copyright_and_licences() -> None:
    """DEP-5 stanzas: last match wins, tails of the installed path and file names match; licences judged."""
    text = dep5([("*", "GPL-2+"), ("desktop/x-*.png\n debian/*", "CC-BY-ND-3.0"), ("16.04/y.jpg", "CC0-1.0")])
    cp = pw.parse_copyright(text)
    assert cp.stanzas == [
        (["*"], "GPL-2+"),
        (["desktop/x-*.png", "debian/*"], "CC-BY-ND-3.0"),
        (["16.04/y.jpg"], "CC0-1.0"),
    ]
    assert cp.licence_of("/usr/share/backgrounds/mate/desktop/x-dark.png") == "CC-BY-ND-3.0"
    assert cp.licence_of("/usr/share/backgrounds/mate/x-dark.png") == "GPL-2+"
    assert cp.licence_of("/usr/share/backgrounds/y.jpg") == "CC0-1.0"
    assert pw.parse_copyright(dep5([("a.png", "MIT")])).licence_of("/usr/share/backgrounds/b.png") is None
    weak = pw.parse_copyright(dep5([("*", "CC-BY-ND-4.0"), ("src/*.png", "GPL-2+"), ("debian/*", "GPL-2+")]))
    assert weak.match("/usr/share/backgrounds/b.png") == ("CC-BY-ND-4.0", [("src/*.png", "GPL-2+")])  # never frees
    assert pw.parse_copyright("This package was debianized by someone.\nLicense: GPL-2+\n") is None
    for free in ["GPL-2+", "LGPL-2.1+", "CC-BY-SA-4.0", "CC-BY-3.0", "CC0-1.0", "Expat", "public-domain",
                 "CC-BY-NC-4.0 or GPL-3+", "GPL-2+ with Font exception", "BSD-3-clause and MIT"]:  # fmt: skip
        assert pw.licence_problem(free) is None, free
    for banned in ["CC-BY-ND-4.0", "CC-BY-NC-SA-3.0", "non-free", "all-rights-reserved", "unknown",
                   "GPL-2+ and CC-BY-NC-4.0", "SomethingElse-1.0", ""]:  # fmt: skip
        assert pw.licence_problem(banned), banned


def test_licence_filter_drops_nd_and_nc(tmp_path: Path) -> None:
    """ND, NC and unclear pictures are dropped with a log line per group; kept ones carry their licence."""
    lines: list[str] = []
    out = tmp_path / "out"
    manifest = pw.build(out, {"art-fake": licensed_tree(tmp_path)}, holdout=0.0, log=lines.append)
    kept = {f["source"].rsplit("/", 1)[1]: f["licence"] for f in manifest["files"]}
    assert kept == {"plain.jpg": "GPL-2+", "sa.jpg": "CC-BY-SA-4.0", "either.png": "CC-BY-NC-4.0 or CC0-1.0"}
    banned = {d["source"].rsplit("/", 1)[1]: d["licence"] for d in manifest["dropped"] if d["reason"] == "licence"}
    assert banned == {
        "nd-1.jpg": "CC-BY-ND-4.0",
        "nd-2.jpg": "CC-BY-ND-4.0",
        "nc.png": "CC-BY-NC-SA-4.0",
        "mystery.png": "all-rights-reserved",
    }
    assert not any(f.name in banned for f in out.rglob("*"))
    assert "matches 'art/nd-*.jpg'" in next(d["why"] for d in manifest["dropped"] if d["licence"] == "CC-BY-ND-4.0")
    assert len(lines) == 3 and any("2 picture(s) licensed CC-BY-ND-4.0" in line and "nd-1.jpg, nd-2.jpg" in line
                                   for line in lines)  # fmt: skip
    s = manifest["summary"]
    assert (s["licence_dropped"], s["duplicates"], s["packages"]["art-fake"]["copyright"]) == (4, 0, "dep5")
    assert s["licences"] == {"CC-BY-NC-4.0 or CC0-1.0": 1, "CC-BY-SA-4.0": 1, "GPL-2+": 1}
    assert (out / "licenses/art-fake.copyright").is_file()


def test_missing_copyright_drops_the_package(tmp_path: Path) -> None:
    """Without a copyright file nothing is known about the licence, so nothing is kept."""
    trees = fake_trees(tmp_path)
    (trees["other-fake"] / "usr/share/doc/other-fake/copyright").unlink()
    lines: list[str] = []
    manifest = pw.build(tmp_path / "out", trees, holdout=0.0, log=lines.append)
    assert {f["package"] for f in manifest["files"]} == {"plasma-fake"}
    assert manifest["summary"]["packages"]["other-fake"]["copyright"] == "missing"
    assert any("other-fake: no copyright file" in line for line in lines)


def test_build_keeps_previous_split(tmp_path: Path) -> None:
    """Rebuilding with more packages keeps every earlier picture in its split, even against the hash rule."""
    trees = fake_trees(tmp_path)
    first = pw.build(tmp_path / "a", trees, holdout=0.34, seed=0, log=lambda _: None)
    flipped = json.loads(json.dumps(first))
    for f in flipped["files"]:  # pretend an older rule split them the other way round
        f["split"] = "train" if f["split"] == "heldout" else "heldout"
        f["file"] = f"{f['split']}/{f['file'].split('/', 1)[1]}"
    trees["art-fake"] = licensed_tree(tmp_path)
    second = pw.build(tmp_path / "b", trees, holdout=0.34, seed=0, previous=flipped, log=lambda _: None)
    before = {f["file"] for f in flipped["files"]}
    assert before <= {f["file"] for f in second["files"]}
    assert second["summary"]["split_kept"] == 3 and second["summary"]["previous_gone"] == []
    new = {f["file"].split("/")[1]: f["split"] for f in second["files"] if f["package"] == "art-fake"}
    assert new == pw.split(list(new), 0.34, seed=0)  # new pictures follow the hash rule
    for f in second["files"]:
        assert (tmp_path / "b" / f["file"]).is_file()


def test_previous_split_follows_a_picture_replaced_by_a_duplicate(tmp_path: Path) -> None:
    """A held-out picture now dropped as a near duplicate of a larger new one hands its split to that one."""
    trees = fake_trees(tmp_path)
    first = pw.build(tmp_path / "a", trees, holdout=0.0, log=lambda _: None)
    for f in first["files"]:
        f["split"] = "heldout" if f["file"].endswith("plasma-fake__Foo.png") else "train"
        f["file"] = f"{f['split']}/{f['file'].split('/', 1)[1]}"
    big = tmp_path / "unpacked" / "big-fake"
    (big / "usr/share/backgrounds").mkdir(parents=True)
    pattern(1, (160, 100)).resize((320, 200), Image.BICUBIC).save(big / "usr/share/backgrounds/Huge.png")
    (big / "usr/share/doc/big-fake").mkdir(parents=True)
    (big / "usr/share/doc/big-fake/copyright").write_text(dep5([("*", "CC0-1.0")]))
    second = pw.build(tmp_path / "b", {**trees, "big-fake": big}, holdout=0.0, previous=first, log=lambda _: None)
    splits = {f["file"].split("/")[1]: f["split"] for f in second["files"]}
    assert "plasma-fake__Foo.png" not in splits  # now a near duplicate of Huge
    assert splits["big-fake__Huge.png"] == "heldout"
    assert second["summary"]["previous_gone"] == []


def test_main_keeps_split_of_existing_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """main() keeps <out>/manifest.json's split by default, a --keep-split manifest, or none with --fresh-split."""
    trees = fake_trees(tmp_path)
    monkeypatch.setattr(pw, "fetch", lambda pkg, work: trees[pkg])
    out = tmp_path / "out"
    args = ["--out", str(out), "--work", str(tmp_path / "w"), "--packages", *trees, "--holdout", "0.34"]
    assert pw.main(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    for f in manifest["files"]:
        f["split"] = "heldout"
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert pw.main(args) == 0
    assert {f["split"] for f in json.loads((out / "manifest.json").read_text())["files"]} == {"heldout"}
    assert pw.main([*args, "--fresh-split"]) == 0
    fresh = json.loads((out / "manifest.json").read_text())
    assert (fresh["summary"]["train"], fresh["summary"]["heldout"], fresh["summary"]["split_kept"]) == (2, 1, 0)
    other = tmp_path / "other"
    assert pw.main([*args[:1], str(other), *args[2:], "--keep-split", str(out / "manifest.json")]) == 0
    assert json.loads((other / "manifest.json").read_text())["summary"]["split_kept"] == 3
    assert "keeping the train/heldout split of" in capsys.readouterr().out


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


def test_shrink_dataset_covers_the_size_and_leaves_out_excluded_names(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("shrink_dataset", SCRIPT.parent / "shrink_dataset.py")
    shrink = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shrink)
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    for name in ("gnome__wood-d", "gnome__wood-l", "kde__hill"):
        Image.new("RGB", (400, 100), (10, 20, 30)).save(src / f"{name}.png")
    assert shrink.main(["--src", str(src), "--dst", str(dst), "--size", "64x32", "--exclude", "gnome__wood-*"]) == 0
    assert sorted(p.name for p in dst.iterdir()) == ["kde__hill.jpg"]
    assert Image.open(dst / "kde__hill.jpg").size == (128, 32)  # aspect kept, just covering 64x32
