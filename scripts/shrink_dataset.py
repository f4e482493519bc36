"""Shrink a folder of pictures so each just covers the training size (aspect kept), as JPEG.

Handy before copying a dataset to a remote GPU machine: the trainer resizes again, so the result
trains the same (one extra resampling) at a fraction of the bytes.

    python scripts/shrink_dataset.py --src data/wallpapers/train --dst data/wallpapers-1024 --size 1024x512

`--exclude GLOB` (repeatable) leaves out the pictures whose file name matches, e.g. the two GNOME wood
pictures whose grain the demo model painted over everything (`--exclude 'gnome-backgrounds__wood-*'`).
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from patchdm_core.runtime.pictures import list_images, load_rgb  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, required=True, help="folder of pictures")
    ap.add_argument("--dst", type=Path, required=True, help="output folder (created)")
    ap.add_argument("--size", default="1024x512", help="training size WxH each picture must still cover")
    ap.add_argument("--quality", type=int, default=92, help="JPEG quality")
    ap.add_argument("--exclude", action="append", default=[], help="leave out file names matching this glob")
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    args.dst.mkdir(parents=True, exist_ok=True)
    total = 0
    for f in list_images(args.src):
        if any(fnmatch.fnmatch(f.name, pattern) for pattern in args.exclude):
            print(f"left out {f.name} (--exclude)")
            continue
        img = load_rgb(f)
        if img is None:
            continue
        scale = min(1.0, max(h / img.height, w / img.width))
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS)
        out = args.dst / (f.stem + ".jpg")
        img.save(out, quality=args.quality)
        total += out.stat().st_size
    print(f"wrote {len(list(args.dst.glob('*.jpg')))} pictures, {total / 2**20:.1f} MiB, to {args.dst}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
