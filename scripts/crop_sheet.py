"""Side-by-side crops at 100% of the same canvases painted two (or more) ways, one row per canvas, for the
model card: where a setting loses detail, this is where the eye sees it.

    python scripts/crop_sheet.py --columns quality::DIR/2048x1024-none_x_preset=quality-{seed}.png \\
        --columns fast::DIR/2048x1024-none_x_preset=fast-{seed}.png --seeds 0,1,2 --box 768,352,512,320 \\
        --out weights/compare-presets.jpg

Each --columns is LABEL::PATTERN, {seed} standing for the seed; the crop is --box (x,y,w,h) of every canvas.
--thumb W shows whole canvases shrunk to W px wide instead, and --rows lays each setting out as a row of seeds
(a contact sheet per setting):

    python scripts/crop_sheet.py --thumb 192 --rows --seeds 0,1,2,3,4,5,6,7 --columns none::DIR/none-{seed}.png ...
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

LABEL = 22  # px of label strip above each column


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--columns", action="append", required=True, help="LABEL::PATTERN with {seed} in PATTERN")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--box", default="384,128,384,256", help="x,y,w,h of the crop in canvas pixels")
    ap.add_argument("--thumb", type=int, default=0, help="whole canvases this many px wide instead of crops")
    ap.add_argument("--rows", action="store_true", help="one row per setting (seeds across) instead of a column")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    columns = [c.split("::", 1) for c in args.columns]
    seeds = [int(s) for s in args.seeds.split(",")]
    x, y, w, h = (int(v) for v in args.box.split(","))

    def tile(path: str) -> Image.Image:
        canvas = Image.open(path).convert("RGB")
        if args.thumb:
            size = (args.thumb, round(args.thumb * canvas.height / canvas.width))
            return canvas.resize(size, Image.Resampling.LANCZOS)
        return canvas.crop((x, y, x + w, y + h))

    tiles = [[tile(pattern.format(seed=seed)) for seed in seeds] for _, pattern in columns]
    tw, th = tiles[0][0].size
    gap = 4
    if args.rows:  # settings down, seeds across; the label above each row
        sheet = Image.new("RGB", (len(seeds) * (tw + gap) - gap, len(columns) * (LABEL + th + gap) - gap), "white")
        draw = ImageDraw.Draw(sheet)
        for i, (label, _) in enumerate(columns):
            top = i * (LABEL + th + gap)
            draw.text((4, top + 4), label, fill="black")
            for j, im in enumerate(tiles[i]):
                sheet.paste(im, (j * (tw + gap), top + LABEL))
    else:  # settings across, seeds down
        sheet = Image.new("RGB", (len(columns) * (tw + gap) - gap, LABEL + len(seeds) * (th + gap) - gap), "white")
        draw = ImageDraw.Draw(sheet)
        for i, (label, _) in enumerate(columns):
            draw.text((i * (tw + gap) + 4, 4), label, fill="black")
            for j, im in enumerate(tiles[i]):
                sheet.paste(im, (i * (tw + gap), LABEL + j * (th + gap)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, quality=88)
    print(f"wrote {args.out} ({sheet.width}x{sheet.height}, {args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
