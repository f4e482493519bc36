"""Canvas sizes: "WxH" as users write them, and the whole-patch grid a size is painted on (sizes off the
grid are painted on the next multiple of the patch size and centre-cropped)."""

from __future__ import annotations

import argparse

from .screens import PRESETS


def round_up(n: int, p: int) -> int:
    """Smallest multiple of p that is >= n."""
    return -(-n // p) * p


def parse_size(text: str) -> tuple[int, int]:
    """'2048x1024' or a screen's name ('4k', 'ultrawide-1440': screens.PRESETS) -> (width, height), each 1..65536."""
    if text.strip().lower() in PRESETS:
        return PRESETS[text.strip().lower()]
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size must look like 2048x1024 or name a screen ({', '.join(PRESETS)}), got {text!r}"
        ) from None
    if not (1 <= w <= 65536 and 1 <= h <= 65536):
        raise argparse.ArgumentTypeError(f"size must be between 1x1 and 65536x65536, got {text!r}")
    return w, h


def sizes(text: str) -> list[tuple[int, int]]:
    """'1024x512,2048x1024' -> [(1024, 512), (2048, 1024)] with parse_size's checks, as ValueError."""
    try:
        return [parse_size(part) for part in text.split(",") if part]
    except argparse.ArgumentTypeError as exc:
        raise ValueError(str(exc)) from None
