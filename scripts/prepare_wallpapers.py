"""Build a training folder of real wallpapers from Debian wallpaper packages.

Usage:
    python scripts/prepare_wallpapers.py --out data/wallpapers [--holdout 0.1] [--seed 0]
        [--packages PKG ...] [--work DIR] [--keep-split MANIFEST | --fresh-split]
        [--svg | --svg-packages] [--svg-size 2048] [--no-logos]

Each package is fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x`` (nothing is
installed). Only pictures under the wallpaper folders (``WALLPAPER_DIRS``) are considered, not icons
or theme graphics. Each picture's licence is looked up in the package's machine-readable (DEP-5)
copyright file (last matching ``Files:`` stanza wins); pictures whose licence forbids derivatives or
commercial use (ND, NC, non-free, unknown, no matching stanza) are dropped. A package whose copyright
file is free-form (not DEP-5) is kept whole, as Debian main vouches for it; its licence is recorded as
``free-form copyright``. Every distinct picture is kept once, at its largest resolution: symlinks,
hard links, byte-identical copies, size variants (``contents/images/<W>x<H>.ext``,
``<name>_<W>x<H>.ext``) and near-duplicates (16x16 thumbnail check) are dropped; SVGs are skipped.

SVGs (opt-in): ``--svg`` rasterizes the SVGs of the packages read with librsvg's ``rsvg-convert`` (Debian
package ``librsvg2-bin``; without it SVGs are skipped as before, with one line saying how to get it) to PNGs
whose long side is ``--svg-size`` px; ``--svg-packages`` also reads ``SVG_PACKAGES`` (Debian's desktop
themes, whose wallpapers are SVGs in ``/usr/share/desktop-base/<theme>/wallpaper*/``, and two raster sets).
A design shipped at several aspect ratios or with and without a logo is kept once: a logo-free variant
when there is one, else the widest aspect (``svg_pictures.choose_variants``). A rasterized SVG never
displaces a raster picture: raster pictures are deduplicated and named first, so without SVGs, or with SVG
support off, the pictures, names and split are exactly those of before. ``LOGO_OR_TEXT`` lists the designs
of these packages that still carry a logo or a line of text (recorded as ``logo`` in the manifest);
``--no-logos`` drops them.

The split is stable: a picture listed in the previous manifest (``--keep-split``, by default
``<out>/manifest.json`` when it exists) keeps its split; a new picture is held out when a hash of
``<seed>:<file name>`` falls below ``--holdout``, whatever the other pictures are.

Output: ``<out>/train`` and ``<out>/heldout`` (``<package>__<name>.<ext>``, bytes unchanged),
``<out>/licenses/<pkg>.copyright`` and ``<out>/manifest.json`` (with each picture's licence). Needs
only the standard library, Pillow and numpy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

try:
    import numpy as np
    from PIL import Image
except ImportError as exc:  # pragma: no cover
    sys.exit(f"error: Python package {exc.name!r} is missing; install it with: pip install pillow numpy")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import svg_pictures  # noqa: E402  (scripts/ is not a package)
from debian_copyright import (  # noqa: E402
    FREE_FORM,
    licence_problem,
    parse_copyright,
)

DEFAULT_PACKAGES = [
    "plasma-workspace-wallpapers",
    "mate-backgrounds",
    "gnome-backgrounds",
    "lomiri-wallpapers-16.04",
    "lomiri-wallpapers-20.04",
    "lxqt-themes",
    "xfdesktop4-data",
]
# read with --svg-packages: Debian's desktop themes (SVG) and two raster sets; not part of the default set
SVG_PACKAGES = [
    "desktop-base",
    "debian-edu-artwork-buster",
    "debian-edu-artwork-emerald",
    "debian-edu-artwork-homeworld",
    "debian-edu-artwork-softwaves",
    "debian-edu-artwork-spacefun",
    "sway-backgrounds",
    "lomiri-wallpapers",
]
# where packages put wallpapers; other pictures (icons, theme previews, panel graphics) are not wallpapers.
# `*` matches within one folder name. desktop-base's themes keep wallpapers in <theme>/wallpaper[-withlogo]/
# (/usr/share/wallpapers only links there); their lockscreen/, login/ and grub/ pictures are not read.
WALLPAPER_DIRS = (
    "usr/share/wallpapers",
    "usr/share/backgrounds",
    "usr/share/lxqt/wallpapers",
    "usr/share/desktop-base/*-theme/wallpaper*",
)
PICTURE_EXTS = {".jpg", ".jpeg", ".png", ".webp"}
SIZE_RE = re.compile(r"^(?P<name>.*?)[_-]?\d{2,5}x\d{2,5}(?:[_-](?i:portrait|landscape))?$")
THEME_DIR_RE = re.compile(r"^(wallpaper|background|lockscreen)s?([-_].*)?$", re.I)  # desktop-base's generic folders
# Designs of the packages above (and the default set's SVGs) that carry a logo or a line of text, checked by eye
# on the rasterized PNGs; (package, picture name) -> what ('quoted' words are text). --no-logos drops them; of two
# near-duplicate SVG designs the one without text, else without logo, is kept (debian-edu-artwork-* repeat
# desktop-base's designs with 'debian edu' added). The default set's raster pictures were not reviewed for this.
LOGO_OR_TEXT = {
    ("desktop-base", "emerald"): "small Debian swirl",
    ("desktop-base", "homeworld"): "Debian swirl and 'debian'",
    ("desktop-base", "joy"): "Debian swirl",
    ("desktop-base", "joy-inksplat"): "Debian swirl in ink splashes",
    ("desktop-base", "lines"): "small Debian swirl",
    ("desktop-base", "moonlight"): "small Debian swirl",
    ("desktop-base", "softwaves"): "Debian swirl",
    ("desktop-base", "spacefun"): "Debian swirl made of stars",
    ("debian-edu-artwork-buster", "debian-edu-buster"): "large Debian swirl and 'debian edu'",
    ("debian-edu-artwork-emerald", "debian-edu-emerald"): "'debian edu Skolelinux' and swirl",
    ("debian-edu-artwork-homeworld", "debian-edu-homeworld"): "Debian swirl and 'debian edu'",
    ("debian-edu-artwork-softwaves", "debian-edu-softwaves"): "Debian swirl and 'debian edu'",
    ("debian-edu-artwork-spacefun", "debian-edu-spacefun"): "large 'debian edu Skolelinux' logo with a hat",
    ("sway-backgrounds", "Sway_Wallpaper_Blue"): "sway logo and 'SWAY'",
    ("xfdesktop4-data", "xfce-flower"): "small Xfce mouse",
    ("xfdesktop4-data", "xfce-leaves"): "Xfce mouse and 'XFCE'",
    ("xfdesktop4-data", "xfce-shapes"): "Xfce mouse",
}
NOT_DUPLICATES = {"licence", "logo", "svg failed"}  # dropped for these reasons, a picture is not counted a duplicate
NEAR_DUP_THRESHOLD = 2.0  # mean absolute difference of 16x16 RGB thumbnails, 0..255 scale


class PrepError(Exception):
    """A failure reported to the user as one line."""


def warn(msg: str) -> None:
    """Log a line to stderr."""
    print(msg, file=sys.stderr)


# --- licences: scripts/debian_copyright.py ---------------------------------------------------------


def copyright_path(pkg: str, root: Path) -> Path:
    """The package's copyright file inside its unpacked tree (symlinks resolved inside the tree)."""
    return resolve_in(root.resolve(), root / "usr/share/doc" / pkg / "copyright")


@dataclass
class Picture:
    """One picture file found inside an unpacked package."""

    package: str
    path: Path  # real file on disk
    source: str  # path inside the package, e.g. /usr/share/wallpapers/Foo/contents/images/800x600.png
    name: str  # picture name, shared by all its size variants
    group: str  # key of the size-variant group
    width: int
    height: int
    mode: str = ""  # Pillow mode: RGBA/LA/P pictures may be mostly transparent overlays
    opacity: float = 1.0  # mean alpha (0..1), filled by dedupe()
    sha256: str = ""
    licence: str = ""  # from the package's copyright file
    thumb: np.ndarray | None = field(default=None, repr=False)  # 16x16 RGB, filled by dedupe()
    vector: bool = False  # an SVG: width/height are its declared size, then its PNG's once rasterized
    variants: int = 1  # SVGs of this design found (aspect ratios, with and without logo)
    svg_sha256: str = ""  # of the SVG, once rasterized (path and sha256 are then the PNG's)
    logo: str = ""  # the logo or text it carries, from LOGO_OR_TEXT
    area = property(lambda self: self.width * self.height, doc="Pixel count.")


def picture_name(rel: Path) -> tuple[str, str]:
    """Return (name, size-variant group) of a picture from its path inside the package."""
    parts = rel.parts
    if len(parts) >= 4 and parts[-2] in ("images", "images_dark") and parts[-3] == "contents":
        folder = parts[-4]
        if len(parts) >= 5 and THEME_DIR_RE.match(folder) and parts[-5].endswith("-theme"):
            folder = parts[-5].removesuffix("-theme")  # desktop-base: <theme>-theme/wallpaper/contents/images
        name = folder + ("-dark" if parts[-2] == "images_dark" else "")
        return name, str(Path(*parts[:-2], name))
    if len(parts) >= 3 and rel.stem == "screenshot" and parts[-2] == "contents":
        return parts[-3], str(Path(*parts[:-1], parts[-3]))  # plasma's preview of images/
    m = SIZE_RE.match(rel.stem)
    name = (m.group("name") if m else rel.stem) or rel.parent.name or rel.stem
    return name, str(rel.parent / name)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def thumbnail(path: Path) -> tuple[np.ndarray, float]:
    """16x16 RGB thumbnail (transparency composited on black) as float32, and the mean opacity."""
    with Image.open(path) as im:
        im.draft("RGB", (64, 64))
        rgba = im.convert("RGBA").resize((16, 16), Image.BILINEAR)
        rgb = Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba).convert("RGB")
        return np.asarray(rgb, dtype=np.float32), float(np.asarray(rgba)[..., 3].mean()) / 255


def resolve_in(root: Path, path: Path) -> Path:
    """Resolve a path's symlinks inside an unpacked tree, taking absolute targets as relative to `root`."""
    for _ in range(40):
        if not path.is_symlink():
            break
        target = Path(os.readlink(path))
        path = root / target.relative_to("/") if target.is_absolute() else path.parent / target
    return path.resolve()


def in_dirs(rel: str, dirs: tuple[str, ...]) -> bool:
    """Whether a path inside the package (``/usr/...``) lies under one of `dirs` (``*`` matches within a name)."""
    for d in dirs:
        prefix = "/" + d.strip("/") + "/"
        if "*" not in prefix and rel.startswith(prefix):
            return True
        if "*" in prefix and re.match("".join("[^/]*" if c == "*" else re.escape(c) for c in prefix), rel):
            return True
    return False


def discover(
    package: str, root: Path, dirs: tuple[str, ...] = WALLPAPER_DIRS, svg: bool = False
) -> tuple[list[Picture], list[dict], list[str], int]:
    """Find the pictures of an unpacked package under `dirs`; with `svg`, SVGs too (as vector pictures).

    Return (distinct files, dropped links, svg paths, number of pictures outside `dirs`)."""
    found: list[Picture] = []
    dropped: list[dict] = []
    svgs: list[str] = []
    outside = 0
    seen: set[tuple[int, int]] = set()
    root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for p in (Path(dirpath) / fn for fn in sorted(filenames)):
            rel, ext = "/" + str(p.relative_to(root)), p.suffix.lower()
            if ext not in PICTURE_EXTS | {".svg"}:
                continue
            if not in_dirs(rel, dirs):
                outside += 1
                continue
            svgs += [rel] if ext == ".svg" else []
            if ext not in PICTURE_EXTS and not svg:
                continue
            real = resolve_in(root, p)
            drop = {"package": package, "source": rel}
            if not real.is_file() or root not in real.parents:
                dropped.append({**drop, "reason": "broken symlink"})
                continue
            st = real.stat()
            if p.is_symlink() or (st.st_dev, st.st_ino) in seen:
                dropped.append(
                    {
                        **drop,
                        "reason": "symlink" if p.is_symlink() else "hard link",
                        "duplicate_of": f"{package}:/{real.relative_to(root)}",
                    }
                )
                continue
            seen.add((st.st_dev, st.st_ino))
            name, group = picture_name(real.relative_to(root))
            if ext == ".svg":
                if (size := svg_pictures.nominal_size(real)) is None:
                    why = "not an <svg> document that declares its size (width and height, or a viewBox)"
                    dropped.append({**drop, "reason": "svg failed", "why": why})
                    continue
                w, h = (max(1, round(v)) for v in size)
                found.append(Picture(package, real, rel, name, f"{package}:{group}", w, h, vector=True))
                continue
            try:
                with Image.open(real) as im:
                    (width, height), mode = im.size, im.mode
            except OSError:
                dropped.append({**drop, "reason": "unreadable"})
                continue
            found.append(Picture(package, real, rel, name, f"{package}:{group}", width, height, mode))
    return found, dropped, svgs, outside


def licence_filter(
    package: str, pictures: list[Picture], copyright_file: Path, log: Callable[[str], None] = warn
) -> tuple[list[Picture], list[dict], str]:
    """Set each picture's licence from the package's copyright file; drop those that are not free.

    Return (kept, dropped, kind of copyright file: "dep5", "free-form" or "missing")."""
    if not copyright_file.is_file():
        log(f"{package}: no copyright file; dropping its {len(pictures)} pictures (licence unknown)")
        return [], [{"package": package, "source": p.source, "reason": "licence", "licence": None,
                     "why": "no copyright file"} for p in pictures], "missing"  # fmt: skip
    parsed = parse_copyright(copyright_file.read_text(errors="replace"))
    if parsed is None:
        if pictures:
            log(f"{package}: copyright file is not machine-readable (DEP-5); keeping its {len(pictures)} pictures "
                f"as {FREE_FORM!r} (Debian main)")  # fmt: skip
        for p in pictures:
            p.licence = FREE_FORM
        return pictures, [], "free-form"
    kept: list[Picture] = []
    groups: dict[tuple[str | None, str], list[Picture]] = defaultdict(list)
    for p in pictures:
        licence, weak = parsed.match(p.source)
        why = "no Files: stanza matches" if licence is None else licence_problem(licence)
        for pat, lic in weak:  # cautious: a non-free stanza that may mean this file drops it
            if why is None and (problem := licence_problem(lic)) is not None:
                licence, why = lic, f"its file name matches {pat!r}: {problem}"
        if why is None:
            p.licence = licence
            kept.append(p)
        else:
            groups[(licence, why)].append(p)
    dropped = []
    for (licence, why), pics in groups.items():
        names = ", ".join(p.source.rsplit("/", 1)[-1] for p in pics)
        log(f"{package}: dropping {len(pics)} picture(s) licensed {licence or 'unknown'} ({why}): {names}")
        dropped += [
            {"package": package, "source": p.source, "reason": "licence", "licence": licence, "why": why} for p in pics
        ]
    return kept, dropped, "dep5"


def dedupe(pictures: list[Picture], threshold: float = NEAR_DUP_THRESHOLD) -> tuple[list[Picture], list[dict]]:
    """Drop exact copies, smaller size variants and near-duplicates; return (kept, dropped)."""
    dropped: list[dict] = []

    def drop(p: Picture, reason: str, other: Picture) -> None:
        dropped.append(
            {
                "package": p.package,
                "source": p.source,
                "reason": reason,
                "duplicate_of": f"{other.package}:{other.source}",
            }
        )

    by_hash: dict[str, Picture] = {}
    by_group: dict[str, Picture] = {}
    kept: list[Picture] = []
    sizes = Counter(p.group for p in pictures)  # on ties, a file beside its other sizes is the original

    def order(p: Picture) -> tuple:
        """Raster pictures first, largest first: a rasterized SVG never displaces a raster picture. SVGs (of
        arbitrary size) by what they carry (nothing, a logo, text), then widest first."""
        if p.vector:
            return True, ("'" in p.logo) + bool(p.logo), -p.width / p.height, 0, p.package, p.source
        return False, 0, -p.area, -sizes[p.group], p.package, p.source

    for p in sorted(pictures, key=order):
        p.sha256 = p.sha256 or sha256_file(p.path)
        if p.sha256 in by_hash:
            drop(p, "exact copy", by_hash[p.sha256])
            continue
        by_hash[p.sha256] = p
        if p.group in by_group:
            drop(p, "smaller size", by_group[p.group])
            continue
        by_group[p.group] = p
        if p.thumb is None:
            p.thumb, p.opacity = thumbnail(p.path)
        near = next((k for k in kept if float(np.abs(k.thumb - p.thumb).mean()) < threshold), None)
        if near is not None:
            drop(p, "near duplicate", near)
        else:
            kept.append(p)
    return kept, dropped


def assign_names(kept: list[Picture]) -> dict[str, Picture]:
    """Map unique output file names `<package>__<name>.<ext>` to the kept pictures."""
    names: dict[str, Picture] = {}
    for p in sorted(kept, key=lambda p: (p.vector, p.package, p.source)):  # raster pictures keep their names
        stem, ext, n = f"{p.package}__{p.name}", p.path.suffix.lower(), 1
        while (out := stem + (f"-{n}" if n > 1 else "") + ext) in names:
            n += 1
        names[out] = p
    return names


def hash_fraction(name: str, seed: int) -> float:
    """A number in [0, 1) that depends only on the seed and the name."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split(names: list[str], holdout: float, seed: int, previous: dict[str, str] | None = None) -> dict[str, str]:
    """Assign each name to 'train' or 'heldout'.

    A name in `previous` keeps its split there; any other name is held out when ``hash_fraction(name, seed)
    < holdout``, so adding or removing names never moves another one. Only if that holds out nothing at all
    (tiny sets) while holdout > 0 and there are 2+ names, the new name with the smallest hash is held out."""
    previous = previous or {}
    out = {n: previous.get(n) or ("heldout" if hash_fraction(n, seed) < holdout else "train") for n in names}
    new = sorted((hash_fraction(n, seed), n) for n in names if n not in previous)
    if holdout > 0 and len(names) >= 2 and "heldout" not in out.values() and new:
        out[new[0][1]] = "heldout"
    return out


def previous_splits(previous: dict, names: dict[str, Picture], dropped: list[dict]) -> tuple[dict[str, str], list]:
    """Map this build's file names to their split in a previous manifest.

    A picture is recognised by its file name, else by (package, source), else by its bytes; one that is now
    dropped as a duplicate hands its split to the picture it duplicates (held out wins a conflict, so no
    held-out picture leaks into train). Return (name -> split, previous entries no longer in the set)."""
    by_file, by_source, by_sha = {}, {}, {}
    for f in previous.get("files", []):
        by_file[f["file"].rsplit("/", 1)[-1]] = f
        by_source[(f["package"], f["source"])] = f
        by_sha.setdefault(f.get("sha256"), f)
    out: dict[str, str] = {}
    used: set[str] = set()
    for fname, p in names.items():
        f = by_file.get(fname) or by_source.get((p.package, p.source)) or by_sha.get(p.sha256)
        if f is not None:
            out[fname] = f["split"]
            used.add(f["file"])
    by_key = {f"{p.package}:{p.source}": fname for fname, p in names.items()}
    for d in dropped:
        f = by_source.get((d["package"], d["source"]))
        target = by_key.get(d.get("duplicate_of", ""))
        if f is None or f["file"] in used or target is None:
            continue
        used.add(f["file"])
        if out.get(target) != "heldout":
            out[target] = f["split"]
    gone = [f for f in previous.get("files", []) if f["file"] not in used]
    return out, gone


def rasterize(
    pictures: list[Picture], rasterizer: svg_pictures.Rasterizer, log: Callable[[str], None] = warn
) -> tuple[list[Picture], list[dict]]:
    """Render the vector pictures to PNGs (path, size, mode become the PNG's); return (kept, dropped).

    An SVG that rsvg-convert rejects, or that takes longer than its timeout, is dropped with a log line."""
    kept, dropped = [], []
    for p in pictures:
        if not p.vector:
            kept.append(p)
            continue
        png, why = rasterizer.render(p.path)
        if png is not None:
            try:
                with Image.open(png) as im:
                    size, mode = im.size, im.mode
            except OSError as e:
                png, why = None, f"its PNG is unreadable: {e}"
        if png is None:
            log(f"{p.package}: skipping {p.source}: {why}")
            dropped.append({"package": p.package, "source": p.source, "reason": "svg failed", "why": why})
            continue
        p.svg_sha256, p.path, (p.width, p.height), p.mode = sha256_file(p.path), png, size, mode
        kept.append(p)
    return kept, dropped


def build(
    out: Path,
    trees: dict[str, Path],
    holdout: float = 0.1,
    seed: int = 0,
    threshold: float = NEAR_DUP_THRESHOLD,
    previous: dict | None = None,
    log: Callable[[str], None] = warn,
    svg_size: int | None = None,
    svg_cache: Path | None = None,
    no_logos: bool = False,
) -> dict:
    """Filter by licence and dedupe unpacked package trees ({package: root}), fill `out`, return the manifest.

    `previous` is an earlier manifest whose train/heldout assignments are kept. With `svg_size`, SVGs are
    rasterized to PNGs whose long side is `svg_size` px, cached in `svg_cache` (default: a temporary folder);
    without rsvg-convert they are skipped with one log line. `no_logos` drops the designs in LOGO_OR_TEXT."""
    with tempfile.TemporaryDirectory(prefix="wallpapers-svg-") as tmp:
        rasterizer = None
        if svg_size is not None and (exe := svg_pictures.find_rsvg()) is not None:
            rasterizer = svg_pictures.Rasterizer(exe, svg_cache or Path(tmp), svg_size)
        return _build(out, trees, holdout, seed, threshold, previous, log, rasterizer, svg_size, no_logos)


def _build(
    out: Path,
    trees: dict[str, Path],
    holdout: float,
    seed: int,
    threshold: float,
    previous: dict | None,
    log: Callable[[str], None],
    rasterizer: svg_pictures.Rasterizer | None,
    svg_size: int | None,
    no_logos: bool,
) -> dict:
    """build() once it is known whether SVGs are rasterized (`rasterizer`) or skipped (None)."""
    found: list[Picture] = []
    dropped: list[dict] = []
    stats: dict[str, dict] = {}
    for pkg, root in trees.items():
        pics, links, svgs, outside = discover(pkg, root, svg=rasterizer is not None)
        pics, banned, kind = licence_filter(pkg, pics, copyright_path(pkg, root), log)
        for d in links:
            if d["reason"] == "svg failed":
                log(f"{pkg}: skipping {d['source']}: {d['why']}")
        stats[pkg] = st = {
            "found": len(pics) + len(links) + len(banned),
            "svg_skipped": len(svgs),
            "svg": svgs,
            "not_wallpaper": outside,
            "copyright": kind,
            "licence_dropped": len(banned),
        }
        dropped += links + banned
        if rasterizer is not None:
            pics, variants = svg_pictures.choose_variants(pics)
            dropped += variants
        for p in pics:
            p.logo = LOGO_OR_TEXT.get((pkg, p.name), "")
        if no_logos:
            dropped += [{"package": pkg, "source": p.source, "reason": "logo", "logo": p.logo} for p in pics if p.logo]
            st["logo_dropped"] = sum(1 for p in pics if p.logo)
            pics = [p for p in pics if not p.logo]
        if rasterizer is not None:
            pics, failed = rasterize(pics, rasterizer, log)
            dropped += failed
            st.update(
                svg_skipped=0,
                svg_rasterized=sum(p.vector for p in pics),
                svg_failed=sum(1 for d in links + failed if d["reason"] == "svg failed"),
                aspect_variants_dropped=sum(1 for d in variants if d["reason"] == "aspect variant"),
                logo_variants_dropped=sum(1 for d in variants if d["reason"] == "logo variant"),
            )
        found += pics
    if svg_size is not None and rasterizer is None and (n := sum(s["svg_skipped"] for s in stats.values())):
        log(f"{n} SVG(s) skipped: {svg_pictures.RSVG} is not installed; to include them: "
            f"{svg_pictures.INSTALL_HINT}")  # fmt: skip
    kept, dups = dedupe(found, threshold)
    dropped += dups
    names = assign_names(kept)
    kept_splits, gone = previous_splits(previous, names, dups) if previous is not None else ({}, [])
    if gone:
        log(f"{len(gone)} picture(s) of the previous manifest are no longer in the set: "
            + ", ".join(f["file"] for f in gone))  # fmt: skip
    splits = split(list(names), holdout, seed, kept_splits)
    tool = rasterizer.version() if rasterizer is not None else ""
    for sub in ("train", "heldout", "licenses"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir(parents=True)
    files = []
    for fname, p in sorted(names.items(), key=lambda kv: (splits[kv[0]], kv[0])):
        shutil.copyfile(p.path, out / splits[fname] / fname)
        files.append(
            {
                "file": f"{splits[fname]}/{fname}",
                "split": splits[fname],
                "package": p.package,
                "source": p.source,
                "width": p.width,
                "height": p.height,
                "mode": p.mode,
                "opacity": round(p.opacity, 3),
                "sha256": p.sha256,
                "licence": p.licence,
            }
        )
        if p.vector:
            files[-1].update(
                svg_sha256=p.svg_sha256, rasterized=f"{tool}, long side {svg_size} px", variants=p.variants
            )
        if p.logo:
            files[-1]["logo"] = p.logo
    for pkg, root in trees.items():
        if (lic := copyright_path(pkg, root)).is_file():
            shutil.copyfile(lic, out / "licenses" / f"{pkg}.copyright")
    n_dup, n_kept, n_split = (
        Counter(d["package"] for d in dropped if d["reason"] not in NOT_DUPLICATES),
        Counter(f["package"] for f in files),
        Counter(f["split"] for f in files),
    )
    for pkg, st in stats.items():
        held = sum(1 for f in files if f["package"] == pkg and f["split"] == "heldout")
        st.update(duplicates=n_dup[pkg], kept=n_kept[pkg], train=n_kept[pkg] - held, heldout=held)
        if rasterizer is not None:  # one kept picture per design
            st.update(
                designs=n_kept[pkg], with_logo=sorted(f["file"] for f in files if f["package"] == pkg and "logo" in f)
            )
    summary = {
        "packages": stats,
        "found": sum(s["found"] for s in stats.values()),
        "duplicates": sum(n_dup.values()),
        "licence_dropped": sum(s["licence_dropped"] for s in stats.values()),
        "licences": dict(sorted(Counter(f["licence"] for f in files).items())),
        "by_reason": dict(sorted(Counter(d["reason"] for d in dropped).items())),
        "svg_skipped": sum(s["svg_skipped"] for s in stats.values()),
        "train": n_split["train"],
        "heldout": n_split["heldout"],
        "holdout": holdout,
        "seed": seed,
        "split_rule": "kept from the previous manifest, else held out when sha256('<seed>:<file name>') < holdout",
        "split_kept": sum(1 for n in names if n in kept_splits),
        "previous_gone": [f["file"] for f in gone],
    }
    if rasterizer is not None:
        summary["svg"] = {
            "rasterized_with": tool,
            "long_side": svg_size,
            "rasterized": sum(s["svg_rasterized"] for s in stats.values()),
            "kept": sum(1 for f in files if "svg_sha256" in f),
            "failed": sum(s["svg_failed"] for s in stats.values()),
        }
    if no_logos:
        summary["logo_dropped"] = sum(s["logo_dropped"] for s in stats.values())
    manifest = {"summary": summary, "files": files, "dropped": dropped}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run a command, capturing its output; a missing program becomes a PrepError."""
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise PrepError(f"{cmd[0]} not found: this script needs Debian's apt-get and dpkg-deb") from None


def fetch(pkg: str, work: Path) -> Path:
    """Download (or reuse) a package's .deb in `work`, unpack it and return the tree's root."""
    if not (debs := sorted(work.glob(f"{pkg}_*.deb"))):
        res = run(["apt-get", "download", pkg], work)
        if res.returncode != 0 and "Unable to locate package" in res.stderr:  # no package lists yet?
            print(f"apt-get cannot locate {pkg}; running apt-get update", file=sys.stderr)
            if (upd := run(["apt-get", "update"], work)).returncode != 0:
                raise PrepError(f"apt-get update failed: {(upd.stderr.strip().splitlines() or ['?'])[-1]}")
            res = run(["apt-get", "download", pkg], work)
        if res.returncode != 0 or not (debs := sorted(work.glob(f"{pkg}_*.deb"))):
            msg = (res.stderr.strip().splitlines() or ["no .deb was written"])[-1]
            raise PrepError(f"cannot download package {pkg!r}: {msg}")
    tree = work / "unpacked" / pkg
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    if (res := run(["dpkg-deb", "-x", str(debs[-1]), str(tree)], work)).returncode != 0:
        raise PrepError(f"cannot unpack {debs[-1].name}: {res.stderr.strip()}")
    return tree


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="output folder: train/, heldout/, licenses/, manifest.json")
    ap.add_argument(
        "--holdout",
        type=float,
        default=0.1,
        help="fraction of new pictures held out, by hash (default 0.1; at least 1 picture)",
    )
    ap.add_argument(
        "--seed", type=int, default=0, help="seed of the per-picture hash that splits new pictures (default 0)"
    )
    ap.add_argument("--packages", nargs="+", default=DEFAULT_PACKAGES, help="Debian packages (default: %(default)s)")
    ap.add_argument(
        "--work",
        type=Path,
        help="folder for the .deb files and unpacked trees, kept and reused "
        "(default: a temporary folder, removed afterwards)",
    )
    ap.add_argument(
        "--threshold",
        type=float,
        default=NEAR_DUP_THRESHOLD,
        help="near-duplicate cut-off: mean "
        "absolute difference of 16x16 RGB thumbnails on a 0-255 scale (default %(default)s)",
    )
    svg = ap.add_mutually_exclusive_group()
    svg.add_argument(
        "--svg", action="store_true", help="rasterize the SVGs of the packages read (needs rsvg-convert: librsvg2-bin)"
    )
    svg.add_argument(
        "--svg-packages",
        action="store_true",
        help="also read " + ", ".join(SVG_PACKAGES) + "; implies --svg",
    )
    ap.add_argument(
        "--svg-size",
        type=int,
        default=svg_pictures.DEFAULT_LONG_SIDE,
        help="long side in px of a rasterized SVG (default %(default)s)",
    )
    ap.add_argument(
        "--no-logos",
        action="store_true",
        help="drop the designs listed in LOGO_OR_TEXT (they carry a logo or a line of text)",
    )
    keep = ap.add_mutually_exclusive_group()
    keep.add_argument(
        "--keep-split",
        type=Path,
        metavar="MANIFEST",
        help="earlier manifest.json whose train/heldout assignments are kept (default: <out>/manifest.json if present)",
    )
    keep.add_argument(
        "--fresh-split", action="store_true", help="ignore any earlier manifest: split every picture by its hash"
    )
    args = ap.parse_args(argv)
    if not 0 <= args.holdout < 1:
        ap.error("--holdout must be in [0, 1)")
    if not 16 <= args.svg_size <= 16384:
        ap.error("--svg-size must be in [16, 16384]")
    packages = list(dict.fromkeys(args.packages + (SVG_PACKAGES if args.svg_packages else [])))
    svg_size = args.svg_size if args.svg or args.svg_packages else None
    if args.keep_split is not None and not args.keep_split.is_file():
        ap.error(f"--keep-split: {args.keep_split} is not a file")
    keep_from = None if args.fresh_split else args.keep_split or args.out / "manifest.json"
    previous = None
    if keep_from is not None and keep_from.is_file():
        try:
            previous = json.loads(keep_from.read_text())
        except (OSError, ValueError) as e:
            print(f"error: cannot read {keep_from}: {e}", file=sys.stderr)
            return 1
        print(f"keeping the train/heldout split of {keep_from} ({len(previous.get('files', []))} pictures)")
    tmp = None if args.work else tempfile.TemporaryDirectory(prefix="wallpapers-")
    work = (args.work or Path(tmp.name)).resolve()
    try:
        work.mkdir(parents=True, exist_ok=True)
        trees = {pkg: fetch(pkg, work) for pkg in packages}
        manifest = build(
            args.out, trees, args.holdout, args.seed, args.threshold, previous, warn, svg_size, work / "rasterized",
            args.no_logos,
        )  # fmt: skip
    except (PrepError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        if tmp is not None:
            tmp.cleanup()
    s = manifest["summary"]
    for pkg, st in s["packages"].items():
        svg = (
            f"{len(st['svg'])} svg: {st['svg_rasterized']} rasterized, {st['svg_failed']} failed, "
            f"{st['aspect_variants_dropped']} aspect and {st['logo_variants_dropped']} logo variants dropped; "
            if "svg_rasterized" in st
            else f"{st['svg_skipped']} svg skipped, "
        )
        logos = f"{st['logo_dropped']} dropped for a logo, " if "logo_dropped" in st else ""
        designs = f"; {len(st['with_logo'])} with a logo or text" if "with_logo" in st else ""
        print(
            f"{pkg}: {st['found']} files found, {st['licence_dropped']} dropped for their licence, {logos}"
            f"{st['duplicates']} duplicates dropped, {svg}"
            f"{st['not_wallpaper']} pictures outside the wallpaper folders ignored, "
            f"{st['kept']} kept ({st['train']} train + {st['heldout']} heldout){designs}"
        )
    reasons = ", ".join(f"{n} {r}" for r, n in s["by_reason"].items() if r not in NOT_DUPLICATES)
    licences = ", ".join(f"{n} {lic}" for lic, n in s["licences"].items())
    logos = f"{s['logo_dropped']} dropped for a logo or text, " if "logo_dropped" in s else ""
    svg = s.get("svg")
    svg = (
        f"; {svg['rasterized']} SVG designs rasterized ({svg['rasterized_with']}, long side {svg['long_side']} px), "
        f"{svg['kept']} kept, {svg['failed']} SVGs failed"
        if svg
        else ""
    )
    print(
        f"total: {s['found']} found, {s['licence_dropped']} dropped for their licence, {logos}"
        f"{s['duplicates']} duplicates dropped ({reasons}); kept {s['train']} train + {s['heldout']} heldout "
        f"in {args.out} ({s['split_kept']} splits kept from the previous manifest); licences: {licences}{svg}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
