"""Write the layout bank `generate --composition layouts` paints from: every training picture cover-cropped
to 2:1 and shrunk by area to a 64x32 thumbnail (the layout of its colour, none of its texture), as one PNG
sheet (editing/layout.py reads it). Pictures whose layout is a logo or a word (a model repainting it paints a
half-formed logo) are left out by name (--exclude), and near-black ones by --min-luminance, as the prior's.

    python scripts/layout_bank.py --data data/wallpapers-1024-v2-nowood --out weights/patchdm-demo-layouts.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from patchdm_core.editing.layout import LayoutBank  # noqa: E402
from patchdm_core.runtime.pictures import crops_of, list_images, load_rgb  # noqa: E402
from patchdm_core.training.layout import LOGOS, shows_a_logo  # noqa: E402


def thumbnails(
    folder: Path, width: int, height: int, exclude: tuple[str, ...] = LOGOS, min_luminance: float = 0.2
) -> torch.Tensor:
    """[N, 3, height, width] in [-1, 1]: each usable picture, centre cover-crop to the aspect, area-shrunk."""
    out = []
    for f in list_images(folder):
        if shows_a_logo(f.name, exclude):
            print(f"left out (logo or text): {f.name}")
            continue
        img = load_rgb(f)  # None (with a warning) for an overlay or an unreadable file
        if img is None:
            continue
        crop = crops_of(img, (8 * height, 8 * width), "center")[0]  # cover-crop at 8x, then the area average
        x = torch.from_numpy(crop.transpose(2, 0, 1).copy()).float()[None] / 127.5 - 1
        thumb = F.interpolate(x, size=(height, width), mode="area")[0]
        luminance = float((thumb + 1).mul(0.5).mul(torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)).sum(0).mean())
        if luminance < min_luminance:
            print(f"left out (mean luminance {luminance:.2f}): {f.name}")
            continue
        out.append(thumb)
    if not out:
        raise SystemExit(f"error: no usable pictures in {folder}")
    return torch.stack(out)


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
