"""Write the layout bank `generate --composition layouts` paints from: every training picture cover-cropped
to 2:1 and shrunk by area to a 64x32 thumbnail (the layout of its colour, none of its texture), as one PNG
sheet (composition/sources.py reads it). Pictures whose layout is a logo or a word (a model repainting it paints a
half-formed logo) are left out by name (--exclude), and near-black ones by --min-luminance, as the prior's.

    python scripts/layout_bank.py --data data/wallpapers-1024-v2-nowood --out weights/patchdm-demo-layouts.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from patchdm_core.composition.sources import LayoutBank  # noqa: E402
from patchdm_core.training.layout import LOGOS, LayoutPictures  # noqa: E402


def thumbnails(
    folder: Path, width: int, height: int, exclude: tuple[str, ...] = LOGOS, min_luminance: float = 0.2
) -> torch.Tensor:
    """[N, 3, height, width] in [-1, 1]: each usable picture's centred cover-crop to the aspect, area-shrunk
    (the pictures the layout model trains on, training/layout.py)."""
    try:
        return LayoutPictures(folder, (height, width), exclude=exclude, min_luminance=min_luminance).centre()
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="the training pictures")
    ap.add_argument("--out", type=Path, required=True, help="the PNG sheet to write")
    ap.add_argument("--thumb", default="64x32", help="thumbnail size WxH (default 64x32)")
    ap.add_argument("--exclude", nargs="*", default=list(LOGOS), help="file name patterns to leave out")
    ap.add_argument("--min-luminance", type=float, default=0.2, help="leave out darker pictures (0-1)")
    args = ap.parse_args()
    width, height = (int(v) for v in args.thumb.split("x"))
    bank = LayoutBank(thumbnails(args.data, width, height, tuple(args.exclude), args.min_luminance))
    bank.save(args.out, source=str(args.data))
    print(f"wrote {args.out}: {len(bank)} layouts of {width}x{height} from {args.data}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
