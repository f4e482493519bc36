"""Build a training folder of real wallpapers from Debian wallpaper packages.

Usage:
    python scripts/prepare_wallpapers.py --out data/wallpapers [--holdout 0.1] [--seed 0]
        [--packages plasma-workspace-wallpapers mate-backgrounds gnome-backgrounds] [--work DIR]

Each package is fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x`` (nothing is
installed). Every distinct picture is kept once, at its largest resolution: symlinks, hard links,
byte-identical copies, size variants (``contents/images/<W>x<H>.ext``, ``<name>_<W>x<H>.ext``)
and near-duplicates (16x16 thumbnail check) are dropped; SVGs are skipped. Output: ``<out>/train``
and ``<out>/heldout`` (``<package>__<name>.<ext>``, bytes unchanged), ``<out>/licenses/<pkg>.copyright``
and ``<out>/manifest.json``. Needs only the standard library, Pillow and numpy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

try:
    import numpy as np
    from PIL import Image
except ImportError as exc:  # pragma: no cover
    sys.exit(f"error: Python package {exc.name!r} is missing; install it with: pip install pillow numpy")

DEFAULT_PACKAGES = ["plasma-workspace-wallpapers", "mate-backgrounds", "gnome-backgrounds"]
PICTURE_EXTS = {".jpg", ".jpeg", ".png", ".webp"}
SIZE_RE = re.compile(r"^(?P<name>.*?)[_-]?\d{2,5}x\d{2,5}$")
NEAR_DUP_THRESHOLD = 2.0  # mean absolute difference of 16x16 RGB thumbnails, 0..255 scale


class PrepError(Exception):
    """A failure reported to the user as one line."""


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
    thumb: np.ndarray | None = field(default=None, repr=False)  # 16x16 RGB, filled by dedupe()
    area = property(lambda self: self.width * self.height, doc="Pixel count.")


def picture_name(rel: Path) -> tuple[str, str]:
    """Return (name, size-variant group) of a picture from its path inside the package."""
    parts = rel.parts
    if len(parts) >= 4 and parts[-2] in ("images", "images_dark") and parts[-3] == "contents":
        name = parts[-4] + ("-dark" if parts[-2] == "images_dark" else "")
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


def discover(package: str, root: Path) -> tuple[list[Picture], list[dict], list[str]]:
    """Find the pictures of an unpacked package; return (distinct files, dropped links, svg paths)."""
    found: list[Picture] = []
    dropped: list[dict] = []
    svgs: list[str] = []
    seen: set[tuple[int, int]] = set()
    root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for p in (Path(dirpath) / fn for fn in sorted(filenames)):
            rel, ext, real = "/" + str(p.relative_to(root)), p.suffix.lower(), resolve_in(root, p)
            svgs += [rel] if ext == ".svg" else []
            if ext not in PICTURE_EXTS:
                continue
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
            try:
                with Image.open(real) as im:
                    (width, height), mode = im.size, im.mode
            except OSError:
                dropped.append({**drop, "reason": "unreadable"})
                continue
            name, group = picture_name(real.relative_to(root))
            found.append(Picture(package, real, rel, name, f"{package}:{group}", width, height, mode))
    return found, dropped, svgs


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
    for p in sorted(pictures, key=lambda p: (-p.area, -sizes[p.group], p.package, p.source)):  # largest first
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
    for p in sorted(kept, key=lambda p: (p.package, p.source)):
        stem, ext, n = f"{p.package}__{p.name}", p.path.suffix.lower(), 1
        while (out := stem + (f"-{n}" if n > 1 else "") + ext) in names:
            n += 1
        names[out] = p
    return names


def split(names: list[str], holdout: float, seed: int) -> dict[str, str]:
    """Deterministically assign each name to 'train' or 'heldout' (at least one held out if holdout > 0)."""
    order = sorted(names)
    random.Random(seed).shuffle(order)
    n_hold = 0 if holdout <= 0 or len(order) < 2 else min(max(1, round(holdout * len(order))), len(order) - 1)
    return {n: ("heldout" if i < n_hold else "train") for i, n in enumerate(order)}


def build(
    out: Path, trees: dict[str, Path], holdout: float = 0.1, seed: int = 0, threshold: float = NEAR_DUP_THRESHOLD
) -> dict:
    """Dedupe unpacked package trees ({package: root}), fill `out` and return the manifest."""
    found: list[Picture] = []
    dropped: list[dict] = []
    stats: dict[str, dict] = {}
    for pkg, root in trees.items():
        pics, links, svgs = discover(pkg, root)
        found, dropped = found + pics, dropped + links
        stats[pkg] = {"found": len(pics) + len(links), "svg_skipped": len(svgs), "svg": svgs}
    kept, dups = dedupe(found, threshold)
    dropped += dups
    names = assign_names(kept)
    splits = split(list(names), holdout, seed)
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
            }
        )
    for pkg, root in trees.items():
        if (lic := root / "usr/share/doc" / pkg / "copyright").is_file():
            shutil.copyfile(lic, out / "licenses" / f"{pkg}.copyright")
    n_dup, n_kept, n_split = (
        Counter(d["package"] for d in dropped),
        Counter(f["package"] for f in files),
        Counter(f["split"] for f in files),
    )
    for pkg, st in stats.items():
        st.update(duplicates=n_dup[pkg], kept=n_kept[pkg])
    summary = {
        "packages": stats,
        "found": sum(s["found"] for s in stats.values()),
        "duplicates": len(dropped),
        "by_reason": dict(sorted(Counter(d["reason"] for d in dropped).items())),
        "svg_skipped": sum(s["svg_skipped"] for s in stats.values()),
        "train": n_split["train"],
        "heldout": n_split["heldout"],
        "holdout": holdout,
        "seed": seed,
    }
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
    ap.add_argument("--holdout", type=float, default=0.1, help="fraction held out (default 0.1; at least 1 picture)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the deterministic train/heldout split (default 0)")
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
    args = ap.parse_args(argv)
    if not 0 <= args.holdout < 1:
        ap.error("--holdout must be in [0, 1)")
    tmp = None if args.work else tempfile.TemporaryDirectory(prefix="wallpapers-")
    work = (args.work or Path(tmp.name)).resolve()
    try:
        work.mkdir(parents=True, exist_ok=True)
        trees = {pkg: fetch(pkg, work) for pkg in args.packages}
        manifest = build(args.out, trees, args.holdout, args.seed, args.threshold)
    except (PrepError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        if tmp is not None:
            tmp.cleanup()
    s = manifest["summary"]
    for pkg, st in s["packages"].items():
        print(
            f"{pkg}: {st['found']} files found, {st['duplicates']} duplicates dropped, "
            f"{st['svg_skipped']} svg skipped, {st['kept']} kept"
        )
    reasons = ", ".join(f"{n} {r}" for r, n in s["by_reason"].items())
    print(
        f"total: {s['found']} found, {s['duplicates']} duplicates dropped ({reasons}); "
        f"kept {s['train']} train + {s['heldout']} heldout in {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
