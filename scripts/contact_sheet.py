"""Contact sheet for the model card: samples at 1024x512 and 2048x1024 from a weights file, in one
256-colour PNG under ~1 MB, and (--crops) 640x320 crops of 1024x512 canvases at 100% in OUT-crops.jpg,
where a faint patch lattice would show.

    python scripts/contact_sheet.py --weights weights/patchdm-demo.safetensors --out weights/samples.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw  # noqa: E402

from patchdm_core import PatchDM, run, to_pil  # noqa: E402
from patchdm_core.evaluation.evaluate import Setting  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seeds", default="1,2,3,4", help="seeds of the 1024x512 row(s)")
    ap.add_argument("--big-seeds", default="1,2", help="seeds of the 2048x1024 samples")
    ap.add_argument("--width", type=int, default=1280, help="width of the sheet in pixels")
    ap.add_argument(
        "--from-eval", type=Path, default=None, help="reuse the canvases of `eval --save-images` (OUT/images)"
    )
    ap.add_argument(
        "--crops",
        default="",
        help="seeds of 1024x512 canvases to show at 100%% (a 640x320 crop each) in OUT-crops.jpg",
    )
    ap.add_argument(
        "--compare",
        default="",
        help="eval setting name (e.g. feature-alternate-ddim25-eta0-default) whose canvases of the --crops seeds "
        "are cropped the same way, one row above, for comparison",
    )
    args = ap.parse_args()
    pipe = PatchDM.load(args.weights)

    def sample(height: int, width: int, seed: str) -> Image.Image:
        # `eval --save-images` may already have painted these canvases (default settings, feature mode)
        d = pipe.cfg.sampling
        spec = Setting("feature", d.grid, d.sampler, d.steps, d.eta).name
        done = next(args.from_eval.rglob(f"{width}x{height}-{spec}-{seed}.png"), None) if args.from_eval else None
        if done is not None:
            return Image.open(done).convert("RGB")
        return to_pil(run(pipe.generate(height, width, seed=int(seed))))

    small = [sample(512, 1024, s) for s in args.seeds.split(",")]
    big = [sample(1024, 2048, s) for s in args.big_seeds.split(",")]
    col = args.width // 2
    tiles = [im.resize((col, col // 2), Image.Resampling.LANCZOS) for im in small + big]
    rows = (len(tiles) + 1) // 2
    sheet = Image.new("RGB", (2 * col, rows * (col // 2 + 18)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (tile, src) in enumerate(zip(tiles, small + big)):
        x, y = (i % 2) * col, (i // 2) * (col // 2 + 18)
        sheet.paste(tile, (x, y + 18))
        seeds = args.seeds.split(",") + args.big_seeds.split(",")
        draw.text((x + 4, y + 3), f"{src.width}x{src.height}, seed {seeds[i]}", fill="black")
    crop_rows = []
    if args.crops:
        seeds = args.crops.split(",")
        if args.compare and args.from_eval:
            old = [next(args.from_eval.rglob(f"1024x512-{args.compare}-{seed}.png")) for seed in seeds]
            crop_rows.append((f"100% crops, {args.compare}", [Image.open(p).convert("RGB") for p in old], seeds))
        d = pipe.cfg.sampling
        crop_rows.append(
            (
                f"100% crops, defaults ({d.sampler} {d.steps}, grid {d.grid})",
                [sample(512, 1024, x) for x in seeds],
                seeds,
            )
        )
    if crop_rows:  # a separate, faithful file: a 256-colour dither would hide (or fake) a faint lattice
        band = col // 2 + 18
        crops = Image.new("RGB", (2 * col, band * len(crop_rows)), "white")
        draw = ImageDraw.Draw(crops)
        for r, (label, pictures, seeds) in enumerate(crop_rows):
            for i, (pic, seed) in enumerate(zip(pictures[:2], seeds[:2])):
                left, top = (pic.width - col) // 2, (pic.height - col // 2) // 2
                crops.paste(pic.crop((left, top, left + col, top + col // 2)), (i * col, r * band + 18))
                draw.text((i * col + 4, r * band + 3), f"{label}, seed {seed}", fill="black")
        crops_path = args.out.with_name(args.out.stem + "-crops.jpg")
        crops.save(crops_path, quality=92, subsampling=0)
        print(f"wrote {crops_path} ({crops_path.stat().st_size / 1e6:.2f} MB)")
    # 256 colours (dithered) keep the PNG under 1 MB; the full-size samples are one command away
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.quantize(colors=256, dither=Image.Dither.FLOYDSTEINBERG).save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
