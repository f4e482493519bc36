"""Offline tests of scripts/prepare_wallpapers.py on a fake unpacked package tree."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from collections import Counter
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


# --- SVG wallpapers (--svg, --svg-packages) ---------------------------------------------------------------------

svg = pw.svg_pictures
HAS_RSVG = shutil.which("rsvg-convert") is not None
needs_rsvg = pytest.mark.skipif(not HAS_RSVG, reason="rsvg-convert (librsvg2-bin) is not installed")
# today's manifest keys: with SVG support off, a build writes exactly these
OLD_SUMMARY_KEYS = {"packages", "found", "duplicates", "licence_dropped", "licences", "by_reason", "svg_skipped",
                    "train", "heldout", "holdout", "seed", "split_rule", "split_kept", "previous_gone"}  # fmt: skip
OLD_PACKAGE_KEYS = {"found", "svg_skipped", "svg", "not_wallpaper", "copyright", "licence_dropped", "duplicates",
                    "kept", "train", "heldout"}  # fmt: skip
OLD_FILE_KEYS = {"file", "split", "package", "source", "width", "height", "mode", "opacity", "sha256", "licence"}


def svg_text(w: int, h: int, top: str, bottom: str, logo: bool = False) -> str:
    """A small SVG: a vertical gradient over the whole canvas, with a white disc as its 'logo'."""
    disc = f'<circle cx="{w / 2}" cy="{h / 2}" r="{h / 4}" fill="#fff"/>' if logo else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="{top}"/>'
        f'<stop offset="1" stop-color="{bottom}"/></linearGradient></defs>'
        f'<rect width="{w}" height="{h}" fill="url(#g)"/>{disc}</svg>'
    )


def svg_tree(tmp: Path) -> Path:
    """A fake desktop theme package: one design at 3 aspects plus a wider logo variant, a logo/nologo pair,
    a broken and a non-SVG file, an ND-licensed SVG, a lockscreen (not read), raster pictures, one of them also
    as an SVG and one with the name of an SVG."""
    root = tmp / "unpacked" / "theme-fake"
    theme = root / "usr/share/desktop-base/aurora-theme"
    for folder, sizes, logo in [("wallpaper", [(1920, 1080), (1280, 1024), (2048, 1024)], False),
                                ("wallpaper-withlogo", [(1920, 1080), (3000, 1000)], True),
                                ("lockscreen", [(1920, 1080)], False)]:  # fmt: skip
        images = theme / folder / "contents/images"
        images.mkdir(parents=True)
        for w, h in sizes:
            (images / f"{w}x{h}.svg").write_text(svg_text(w, h, "#123456", "#3399cc", logo))
    bg = root / "usr/share/backgrounds/fake"
    bg.mkdir(parents=True)
    (bg / "waves.svg").write_text(svg_text(160, 90, "#552200", "#ffaa00", logo=True))
    (bg / "waves-nologo.svg").write_text(svg_text(160, 90, "#552200", "#ffaa00"))
    (bg / "broken.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="160" height="90"><rect')
    (bg / "notsvg.svg").write_text("this is not XML")
    (bg / "nd-art.svg").write_text(svg_text(160, 90, "#000000", "#ff0000"))
    Image.new("RGB", (40, 20), (40, 200, 90)).save(bg / "Plain.png")  # raster, smaller than any rasterized SVG
    (bg / "Plain-vector.svg").write_text(svg_text(160, 80, "#28c85a", "#28c85a"))  # the same picture as an SVG
    (bg / "a").mkdir()
    (bg / "a/Twin.svg").write_text(svg_text(160, 90, "#ff0000", "#0000ff"))  # another picture of the same name
    (bg / "b").mkdir()
    pattern(5, (120, 60)).save(bg / "b/Twin.png")
    (root / "usr/share/doc/theme-fake").mkdir(parents=True)
    (root / "usr/share/doc/theme-fake/copyright").write_text(
        dep5([("*", "GPL-2+"), ("aurora-theme/*", "CC-BY-SA-4.0"), ("nd-*.svg", "CC-BY-ND-4.0")])
    )
    return root


def test_svg_nominal_size_and_variant_rules(tmp_path: Path) -> None:
    """An SVG's declared size (attributes, units, viewBox), and how variants of a design are told apart."""
    cases = {
        '<svg xmlns="http://www.w3.org/2000/svg" width="1920px" height="1080"/>': (1920, 1080),
        '<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="100%" viewBox="0 0 677 381"/>': (677, 381),
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" viewBox="0,0,100,50"/>': (200, 100),
        '<svg xmlns="http://www.w3.org/2000/svg" width="10mm" height="5mm"/>': (10 * 96 / 25.4, 5 * 96 / 25.4),
        '<?xml version="1.0"?>\n<!-- c -->\n<svg width="16" height="9"><rect': (16, 9),  # broken later: rsvg's job
        "<svg/>": None,
        '<html width="10" height="10"/>': None,
        "not xml": None,
        "": None,
    }
    for i, (text, want) in enumerate(cases.items()):
        (tmp_path / f"{i}.svg").write_text(text)
        got = svg.nominal_size(tmp_path / f"{i}.svg")
        assert got == (pytest.approx(want) if want else None), text
    assert [svg.logo_rank(s) for s in ["a/wallpaper-nologo/1.svg", "a/wallpaper/1.svg", "a/wallpaper-withlogo/1.svg",
                                       "b/Waves_no_logo.svg", "b/Waves-with-logo.svg"]] == [0, 1, 2, 0, 2]  # fmt: skip
    key = svg.design_key("p:usr/share/desktop-base/x-theme/wallpaper/contents/x")
    assert svg.design_key("p:usr/share/desktop-base/x-theme/wallpaper-withlogo/contents/x") == key
    assert svg.design_key("p:usr/share/desktop-base/x-theme/wallpaper-nologo/contents/x") == key
    assert svg.design_key("p:usr/share/desktop-base/y-theme/wallpaper/contents/y") != key
    assert pw.picture_name(Path("usr/share/desktop-base/x-theme/wallpaper-withlogo/contents/images/1x1.svg"))[0] == "x"
    assert pw.in_dirs("/usr/share/desktop-base/x-theme/wallpaper-withlogo/contents/images/1x1.svg", pw.WALLPAPER_DIRS)
    assert not pw.in_dirs("/usr/share/desktop-base/x-theme/lockscreen/contents/images/1x1.svg", pw.WALLPAPER_DIRS)
    assert not pw.in_dirs("/usr/share/desktop-base/debian-logos/logo.svg", pw.WALLPAPER_DIRS)
    assert pw.picture_name(Path("bg/sway/Sway_Blue_1136x640_Portrait.png")) == pw.picture_name(
        Path("bg/sway/Sway_Blue.png")
    )


def test_svg_variants_are_chosen_before_rasterizing(tmp_path: Path) -> None:
    """discover + choose_variants: one SVG per design, nologo first, then the widest; the rest are recorded."""
    root = svg_tree(tmp_path)
    pics, dropped, svgs, outside = pw.discover("theme-fake", root, svg=True)
    assert outside == 1  # the lockscreen
    assert {d["source"].rsplit("/", 1)[1]: d["reason"] for d in dropped} == {"notsvg.svg": "svg failed"}
    kept, variants = svg.choose_variants(pics)
    chosen = {p.source.split("/usr/share/")[1] for p in kept if p.vector}
    assert chosen == {
        "desktop-base/aurora-theme/wallpaper/contents/images/2048x1024.svg",  # the 3000x1000 one has the logo
        "backgrounds/fake/waves-nologo.svg",
        "backgrounds/fake/broken.svg",  # declares its size; rsvg-convert rejects it later
        "backgrounds/fake/nd-art.svg",
        "backgrounds/fake/Plain-vector.svg",
        "backgrounds/fake/a/Twin.svg",
    }
    assert [p.path.name for p in kept if not p.vector] == ["Plain.png", "Twin.png"]
    reasons = Counter(d["reason"] for d in variants)
    assert reasons == {"aspect variant": 2, "logo variant": 3}
    assert next(p.variants for p in kept if p.name == "aurora") == 5


def test_rasterizer_failures_are_one_line(tmp_path: Path) -> None:
    """A program that fails or hangs gives (None, one line), never an exception; a success is cached."""
    src = tmp_path / "a.svg"
    src.write_text(svg_text(16, 8, "#000", "#fff"))
    for name, body, want in [("fails", "echo 'Error reading SVG: parse error' >&2; exit 1", "rejected it: Error"),
                             ("hangs", "exec sleep 3", "took over 0.5 s"),
                             ("silent", "exit 0", "rejected it: exit status 0")]:  # fmt: skip
        exe = tmp_path / name
        exe.write_text(f"#!/bin/sh\n{body}\n")
        exe.chmod(0o755)
        png, why = svg.Rasterizer(str(exe), tmp_path / "cache", 64, timeout=0.5).render(src)
        assert png is None and want in why and "\n" not in why, why
    assert not list((tmp_path / "cache").glob("*"))  # no partial files left behind
    ok = tmp_path / "ok"
    ok.write_text('#!/bin/sh\nfor a; do prev="$o"; o="$a"; [ "$prev" = --output ] && echo png > "$a"; done\nexit 0\n')
    ok.chmod(0o755)
    png, why = svg.Rasterizer(str(ok), tmp_path / "cache", 64).render(src)
    assert why == "" and png.read_text() == "png\n"
    ok.write_text("#!/bin/sh\nexit 1\n")  # the cache answers now
    assert svg.Rasterizer(str(ok), tmp_path / "cache", 64).render(src) == (png, "")
    assert svg.Rasterizer(str(ok), tmp_path / "cache", 32).render(src)[0] is None  # another size is another file


def test_svg_off_gives_todays_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --svg, or with it but no rsvg-convert, SVGs are skipped and the manifest is today's, key for key;
    the missing program is reported once, with how to get it."""
    trees = {**fake_trees(tmp_path), "theme-fake": svg_tree(tmp_path)}
    off = pw.build(tmp_path / "off", trees, holdout=0.34, seed=0, log=lambda _: None)
    names = {"plasma-fake__Foo.png", "plasma-fake__Foo-dark.png", "other-fake__Bar.png", "theme-fake__Plain.png",
             "theme-fake__Twin.png"}  # fmt: skip
    assert {f["file"].split("/")[1] for f in off["files"]} == names
    assert set(off["summary"]) == OLD_SUMMARY_KEYS
    assert all(set(st) == OLD_PACKAGE_KEYS for st in off["summary"]["packages"].values())
    assert all(set(f) == OLD_FILE_KEYS for f in off["files"])
    assert off["summary"]["packages"]["theme-fake"]["svg_skipped"] == 12  # the lockscreen's is outside
    assert off["summary"]["svg_skipped"] == 13
    lines: list[str] = []
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    no_rsvg = pw.build(tmp_path / "no-rsvg", trees, holdout=0.34, seed=0, log=lines.append, svg_size=64)
    assert no_rsvg == off
    assert [line for line in lines if "SVG" in line] == [
        "13 SVG(s) skipped: rsvg-convert is not installed; to include them: apt-get install librsvg2-bin"
    ]
    assert sorted(p.name for p in (tmp_path / "no-rsvg").rglob("*.png")) == sorted(
        p.name for p in (tmp_path / "off").rglob("*.png")
    )


@needs_rsvg
def test_build_rasterizes_one_picture_per_design(tmp_path: Path) -> None:
    """With rsvg-convert: the widest logo-free variant of each design is rasterized at the long side asked for;
    broken SVGs are skipped with a line; the licence filter applies; raster pictures keep their names and split."""
    trees = {**fake_trees(tmp_path), "theme-fake": svg_tree(tmp_path)}
    off = pw.build(tmp_path / "off", trees, holdout=0.34, seed=2, log=lambda _: None)
    lines: list[str] = []
    on = pw.build(tmp_path / "on", trees, holdout=0.34, seed=2, log=lines.append, svg_size=64,
                  svg_cache=tmp_path / "cache")  # fmt: skip
    files = {f["file"].split("/")[1]: f for f in on["files"]}
    raster = {f["file"]: f["sha256"] for f in off["files"]}
    assert {f["file"]: f["sha256"] for f in on["files"] if f["file"] in raster} == raster  # nothing moved
    new = {n: f for n, f in files.items() if f["file"] not in raster}
    assert set(new) == {"theme-fake__aurora.png", "theme-fake__waves-nologo.png", "theme-fake__Twin-2.png"}
    assert files["theme-fake__Twin.png"]["source"].endswith("/b/Twin.png")  # the raster picture keeps its name
    assert {n: f["split"] for n, f in new.items()} == pw.split(list(new), 0.34, seed=2)  # by hash, as any new one
    assert {f["split"] for f in new.values()} == {"train", "heldout"}  # (seed 2 holds one out, and Foo.png before)
    aurora = new["theme-fake__aurora.png"]
    assert aurora["source"] == "/usr/share/desktop-base/aurora-theme/wallpaper/contents/images/2048x1024.svg"
    assert (aurora["width"], aurora["height"], aurora["variants"], aurora["licence"]) == (64, 32, 5, "CC-BY-SA-4.0")
    assert aurora["rasterized"].startswith("rsvg-convert ") and aurora["rasterized"].endswith("long side 64 px")
    with Image.open(tmp_path / "on" / aurora["file"]) as im:
        assert im.format == "PNG" and im.size == (64, 32)
        top, bottom = im.convert("RGB").getpixel((32, 0)), im.convert("RGB").getpixel((32, 31))
        assert top[2] < 0x60 and bottom[2] > 0xB0  # the gradient, from #123456 down to #3399cc
    with Image.open(tmp_path / "on" / new["theme-fake__waves-nologo.png"]["file"]) as im:
        assert im.size == (64, 36)
        assert max(im.convert("RGB").getpixel((32, 18))) < 0xF0  # no white disc: the nologo variant
    reasons = {d["source"].split("/aurora-theme/")[-1].split("/backgrounds/")[-1]: d["reason"]
               for d in on["dropped"] if d["package"] == "theme-fake"}  # fmt: skip
    assert reasons == {
        "wallpaper/contents/images/1920x1080.svg": "aspect variant",
        "wallpaper/contents/images/1280x1024.svg": "aspect variant",
        "wallpaper-withlogo/contents/images/1920x1080.svg": "logo variant",
        "wallpaper-withlogo/contents/images/3000x1000.svg": "logo variant",  # wider, but the design has no-logo ones
        "fake/waves.svg": "logo variant",
        "fake/broken.svg": "svg failed",
        "fake/notsvg.svg": "svg failed",
        "fake/nd-art.svg": "licence",
        "fake/Plain-vector.svg": "near duplicate",  # larger than Plain.png, but a raster picture is never displaced
    }
    skipped = [line for line in lines if line.startswith("theme-fake: skipping")]
    assert len(skipped) == 2
    assert skipped[0] == ("theme-fake: skipping /usr/share/backgrounds/fake/notsvg.svg: not an <svg> document that "
                          "declares its size (width and height, or a viewBox)")  # fmt: skip
    assert skipped[1].startswith(
        "theme-fake: skipping /usr/share/backgrounds/fake/broken.svg: rsvg-convert rejected it:"
    )
    st = on["summary"]["packages"]["theme-fake"]
    counts = (st["svg_rasterized"], st["svg_failed"], st["aspect_variants_dropped"], st["logo_variants_dropped"])
    assert counts == (4, 2, 2, 3)  # rasterized: aurora, waves-nologo, Twin and Plain-vector (a near duplicate)
    assert (st["designs"], st["kept"], st["svg_skipped"]) == (5, 5, 0)
    assert on["summary"]["svg"]["kept"] == 3 and on["summary"]["svg"]["long_side"] == 64
    again = pw.build(tmp_path / "again", trees, holdout=0.34, seed=2, log=lambda _: None, svg_size=64,
                     svg_cache=tmp_path / "cache", previous=on)  # fmt: skip
    assert again["files"] == on["files"] and again["summary"]["split_kept"] == len(on["files"])


def test_main_svg_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """--svg-packages reads SVG_PACKAGES too and turns SVGs on (here without rsvg-convert: one hint line);
    --no-logos drops the designs LOGO_OR_TEXT lists, which are otherwise kept and marked."""
    tree = svg_tree(tmp_path)
    fetched: list[str] = []

    def fetch(pkg: str, work: Path) -> Path:
        fetched.append(pkg)
        if pkg == "theme-fake":
            return tree
        (empty := tmp_path / "unpacked" / pkg).mkdir(parents=True, exist_ok=True)
        return empty

    monkeypatch.setattr(pw, "fetch", fetch)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    monkeypatch.setattr(pw, "LOGO_OR_TEXT", {("theme-fake", "Plain"): "a green 'PLAIN'"})
    out = tmp_path / "out"
    args = ["--out", str(out), "--work", str(tmp_path / "w"), "--packages", "theme-fake", "--fresh-split"]
    assert pw.main([*args, "--svg-packages"]) == 0
    assert fetched == ["theme-fake", *pw.SVG_PACKAGES]
    err = capsys.readouterr().err
    assert err.count("apt-get install librsvg2-bin") == 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted((f["file"].split("/")[1], f.get("logo")) for f in manifest["files"]) == [
        ("theme-fake__Plain.png", "a green 'PLAIN'"),
        ("theme-fake__Twin.png", None),
    ]
    assert pw.main([*args, "--no-logos"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert [f["file"].split("/")[1] for f in manifest["files"]] == ["theme-fake__Twin.png"]
    assert manifest["summary"]["logo_dropped"] == 1
    assert [d["reason"] for d in manifest["dropped"] if d["source"].endswith("Plain.png")] == ["logo"]
    assert "1 dropped for a logo or text" in capsys.readouterr().out
