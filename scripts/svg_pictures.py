"""SVG wallpapers for ``scripts/prepare_wallpapers.py``: an SVG's declared size, one variant per design, PNGs.

Debian's desktop themes (``desktop-base``, ``debian-edu-artwork-*``) ship each design as SVGs at many aspect
ratios (``/usr/share/desktop-base/<theme>/wallpaper/contents/images/1920x1080.svg``, ``1280x1024.svg``, ...),
some of them also with and without a logo (``wallpaper`` and ``wallpaper-withlogo``). One variant per design
is kept (``choose_variants``): a logo-free one when the design has one, then the widest aspect (the model paints
2:1 canvases), then the largest declared size. It is rasterized with librsvg's ``rsvg-convert`` (Debian package
``librsvg2-bin``) so that its long side is ``long_side`` pixels, aspect kept, as PNG (``Rasterizer``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

RSVG = "rsvg-convert"
INSTALL_HINT = "apt-get install librsvg2-bin"
DEFAULT_LONG_SIDE = 2048  # covers the 2048x1024 canvases eval uses; training shrinks to cover 1024x512
TIMEOUT_S = 120.0
# "wallpaper-withlogo", "Foo_with_logo" / "wallpaper-nologo", "Foo-no-logo": the same design with and without a logo
WITH_LOGO_RE = re.compile(r"[-_ ]?with[-_ ]?logo", re.I)
NO_LOGO_RE = re.compile(r"[-_ ]?no[-_ ]?logo", re.I)
LENGTH_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)\s*(px|pt|pc|mm|cm|in)?\s*$", re.I)


def find_rsvg() -> str | None:
    """Path of ``rsvg-convert``, or None when librsvg2-bin is not installed."""
    return shutil.which(RSVG)


def logo_rank(source: str) -> int:
    """0 for a variant marked logo-free (``nologo``), 1 for an unmarked one, 2 for one marked ``withlogo``."""
    return 0 if NO_LOGO_RE.search(source) else 2 if WITH_LOGO_RE.search(source) else 1


def design_key(group: str) -> str:
    """The size-variant group of a picture with its logo marker removed: variants of one design share it."""
    return NO_LOGO_RE.sub("", WITH_LOGO_RE.sub("", group))


def _length(value: str | None) -> float | None:
    """An SVG length in user units (px); None for a percentage, a missing or an unknown value."""
    m = LENGTH_RE.match(value or "")
    if m is None:
        return None
    scale = {"pt": 4 / 3, "pc": 16, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96}.get((m.group(2) or "").lower(), 1)
    return float(m.group(1)) * scale


def nominal_size(path: Path) -> tuple[float, float] | None:
    """(width, height) an SVG file declares: its root's width and height, else its viewBox's.

    None when the file does not start as XML with an ``<svg>`` root or declares no usable size."""
    try:
        with open(path, "rb") as f:
            _, root = next(ET.iterparse(f, events=("start",)))
    except (ET.ParseError, StopIteration, OSError, ValueError):
        return None
    if root.tag.rsplit("}", 1)[-1] != "svg":
        return None
    w, h = _length(root.get("width")), _length(root.get("height"))
    try:
        box = [float(v) for v in re.split(r"[\s,]+", root.get("viewBox", "").strip()) if v]
    except ValueError:
        box = []
    if (w is None or h is None) and len(box) == 4 and box[2] > 0 and box[3] > 0:
        if w is None and h is None:
            w, h = box[2], box[3]
        elif w is None:
            w = h * box[2] / box[3]
        else:
            h = w * box[3] / box[2]
    if w is None or h is None or w <= 0 or h <= 0:
        return None
    return w, h


def choose_variants(pictures: list) -> tuple[list, list[dict]]:
    """Keep one vector picture per design; return (kept pictures, dropped entries for the manifest).

    `pictures` are prepare_wallpapers.Picture objects; raster ones (``vector`` false) pass through untouched.
    Within a design (``design_key`` of the picture's group) a logo-free variant beats one with a logo, then the
    widest aspect wins, then the largest declared size. The kept picture's ``variants`` counts its design's."""
    designs: dict[str, list] = defaultdict(list)
    kept, dropped = [], []
    for p in pictures:
        if p.vector:
            designs[design_key(p.group)].append(p)
        else:
            kept.append(p)
    for variants in designs.values():
        variants.sort(key=lambda p: (logo_rank(p.source), -p.width / p.height, -p.width * p.height, p.source))
        best = variants[0]
        best.variants = len(variants)
        kept.append(best)
        for p in variants[1:]:
            reason = "logo variant" if logo_rank(p.source) > logo_rank(best.source) else "aspect variant"
            dropped.append(
                {
                    "package": p.package,
                    "source": p.source,
                    "reason": reason,
                    "duplicate_of": f"{best.package}:{best.source}",
                }
            )
    return kept, dropped


@dataclass
class Rasterizer:
    """Renders SVG files to PNGs whose long side is `long_side` px, cached in `cache` by the SVG's bytes."""

    exe: str
    cache: Path
    long_side: int = DEFAULT_LONG_SIDE
    timeout: float = TIMEOUT_S

    def version(self) -> str:
        """``rsvg-convert version 2.54.7`` as ``rsvg-convert 2.54.7``."""
        try:
            out = subprocess.run([self.exe, "--version"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            return RSVG
        return RSVG + (" " + m.group(0) if (m := re.search(r"\d+(\.\d+)+", out)) else "")

    def render(self, svg: Path) -> tuple[Path | None, str]:
        """Return (the PNG, "") or (None, why rsvg-convert failed, one line)."""
        digest = hashlib.sha256(svg.read_bytes()).hexdigest()[:24]
        out = self.cache / f"{digest}-{self.long_side}.png"
        if out.is_file():
            return out, ""
        self.cache.mkdir(parents=True, exist_ok=True)
        part = out.with_name(f"{out.stem}.{os.getpid()}.part.png")
        side = str(self.long_side)
        cmd = [self.exe, "--keep-aspect-ratio", "--width", side, "--height", side, "--format", "png"]
        try:
            res = subprocess.run(
                [*cmd, "--output", str(part), str(svg)], capture_output=True, text=True, timeout=self.timeout
            )
        except subprocess.TimeoutExpired:
            part.unlink(missing_ok=True)
            return None, f"{RSVG} took over {self.timeout:g} s"
        except OSError as e:
            part.unlink(missing_ok=True)
            return None, f"cannot run {RSVG}: {e}"
        if res.returncode != 0 or not part.is_file() or part.stat().st_size == 0:
            part.unlink(missing_ok=True)
            lines = [ln.strip() for ln in res.stderr.splitlines() if ln.strip()] or [f"exit status {res.returncode}"]
            return None, f"{RSVG} rejected it: {lines[0][:200]}"
        os.replace(part, out)
        return out, ""
