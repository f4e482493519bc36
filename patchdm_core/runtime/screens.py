"""Screens people own: named sizes (`--size 4k`), and one picture across several monitors (`--span`).

A span is the geometry a user reads from their display settings, width x height + x + y per monitor in
pixels. With a bezel, every monitor is moved right (down) by the bezel once per distinct monitor edge to its
left (above it), so a line that crosses the gap between two screens continues where the eye expects it.
The picture is painted over the bounding box of the moved monitors; each monitor's file is a pixel-exact
crop of it, and the bezel columns are painted but in no monitor's file.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# name -> (width, height), grouped as the app's size picker shows them
SCREENS: dict[str, dict[str, tuple[int, int]]] = {
    "desktop": {"1080p": (1920, 1080), "1440p": (2560, 1440), "4k": (3840, 2160), "5k": (5120, 2880)},
    "ultrawide": {
        "ultrawide-1080": (2560, 1080),
        "ultrawide-1440": (3440, 1440),
        "superwide-1440": (5120, 1440),
        "ultrawide-5k": (5120, 2160),
    },
    "phone": {
        "phone-1080": (1080, 2400),
        "iphone": (1170, 2532),
        "iphone-max": (1290, 2796),
        "phone-1440": (1440, 3200),
    },
    "tablet": {"ipad-pro": (2048, 2732), "ipad-air": (1668, 2388)},
}
PRESETS: dict[str, tuple[int, int]] = {name: size for group in SCREENS.values() for name, size in group.items()}


def presets_help() -> str:
    """'desktop: 1080p (1920x1080), ...; ultrawide: ...' for --help and error messages."""
    return "; ".join(
        f"{group}: " + ", ".join(f"{name} ({w}x{h})" for name, (w, h) in sizes.items())
        for group, sizes in SCREENS.items()
    )


class Monitor(NamedTuple):
    width: int
    height: int
    x: int  # left edge, px (after bezels: on the painted canvas)
    y: int  # top edge, px

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom), end-exclusive."""
        return self.x, self.y, self.x + self.width, self.y + self.height

    def text(self) -> str:
        return f"{self.width}x{self.height}{self.x:+d}{self.y:+d}"


# WxH+X+Y; an offset left of or above the primary screen may be written -1920 or +-1920
_MONITOR = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*([+-]\s*-?\s*\d+)\s*([+-]\s*-?\s*\d+)\s*$")


def parse_span(text: str) -> list[Monitor]:
    """'2560x1440+0+0,1920x1080+2560+180' -> monitors (a preset name may stand for WxH: '4k+0+0')."""
    monitors = []
    for part in [p for p in text.split(",") if p.strip()]:
        spec = part.strip()
        name, _, rest = spec.partition("+")
        if name.lower() in PRESETS:
            w, h = PRESETS[name.lower()]
            spec = f"{w}x{h}+{rest}"
        match = _MONITOR.match(spec)
        if not match:
            raise ValueError(
                "a monitor must look like WIDTHxHEIGHT+X+Y (as display settings show it), "
                f"e.g. 2560x1440+0+0; got {part!r}"
            )
        w, h, x, y = (int(g.replace(" ", "").replace("+-", "-").replace("--", "")) for g in match.groups())
        if w < 1 or h < 1:
            raise ValueError(f"a monitor's size must be positive, got {part!r}")
        monitors.append(Monitor(w, h, x, y))
    if not monitors:
        raise ValueError("give at least one monitor, e.g. --span 2560x1440+0+0,1920x1080+2560+180")
    for i, a in enumerate(monitors):
        for b in monitors[i + 1 :]:
            if _overlap(a.box, b.box):
                raise ValueError(f"monitors {a.text()} and {b.text()} overlap; check the offsets")
    return monitors


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def span_layout(monitors: list[Monitor], bezel: int = 0) -> tuple[tuple[int, int], list[Monitor]]:
    """The painted canvas (width, height) and every monitor placed on it (bezels added, origin at 0, 0)."""
    if bezel < 0:
        raise ValueError(f"the bezel must be 0 or more pixels, got {bezel}")
    rights = sorted({m.x + m.width for m in monitors})
    bottoms = sorted({m.y + m.height for m in monitors})
    moved = [
        Monitor(
            m.width,
            m.height,
            m.x + bezel * sum(1 for r in rights if r <= m.x),
            m.y + bezel * sum(1 for b in bottoms if b <= m.y),
        )
        for m in monitors
    ]
    x0, y0 = min(m.x for m in moved), min(m.y for m in moved)
    placed = [Monitor(m.width, m.height, m.x - x0, m.y - y0) for m in moved]
    return (max(m.x + m.width for m in placed), max(m.y + m.height for m in placed)), placed
