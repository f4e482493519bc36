"""`img2img` and `upscale`: repaint a picture or a sketch at any size, or enlarge one with new detail.

    python -m patchdm_core img2img --image sketch.png --size 3840x2160 --strength 0.6 -o out.png
    python -m patchdm_core upscale --image small.png --scale 2 -o big.png

A sketch's transparent areas carry no guidance: they are painted freely (strength 1 there).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .cli import (
    add_model_args,
    add_sampling_args,
    load_pipeline,
    parse_size,
    resolve_seed,
    sampling_params,
    with_progress,
)
from .collage import round_up
from .images import save_png, to_pil
from .sampler import run

MAX_PIXELS = 4096 * 2048  # the app's default canvas limit


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    add_model_args(p)
    p.add_argument("--image", type=Path, required=True, help="picture or sketch to start from")
    if name == "img2img":
        p.add_argument(
            "--size", type=parse_size, default=None, metavar="WxH", help="output size (default: the picture's)"
        )
        p.add_argument(
            "--strength", type=float, default=0.6, help="0 = the picture back, 1 = a new picture in its palette"
        )
    else:
        group = p.add_mutually_exclusive_group(required=True)
        group.add_argument("--scale", type=float, default=None, help="enlarge by this factor (2 = twice the width)")
        group.add_argument("--size", type=parse_size, default=None, metavar="WxH", help="output size")
        p.add_argument("--strength", type=float, default=0.4, help="how much new detail (0.3-0.5 keeps the picture)")
    p.add_argument(
        "--max-pixels",
        type=int,
        default=MAX_PIXELS,
        help="refuse outputs larger than this (after rounding to the grid)",
    )
    add_sampling_args(p)


def target_size(args: argparse.Namespace, width: int, height: int, p: int) -> tuple[int, int]:
    """(width, height) of the output, checked against --max-pixels before any work."""
    if args.size is not None:
        out_w, out_h = args.size
    elif args.command == "upscale":
        if not args.scale > 0 or args.scale != args.scale:
            raise ValueError(f"--scale must be a positive number, got {args.scale}")
        out_w, out_h = round(width * args.scale), round(height * args.scale)
    else:
        out_w, out_h = width, height
    if out_w < 1 or out_h < 1:
        raise ValueError(f"the output size must be positive, got {out_w}x{out_h}")
    grid_pixels = round_up(out_w, p) * round_up(out_h, p)
    if grid_pixels > args.max_pixels:
        raise ValueError(
            f"the output {out_w}x{out_h} ({grid_pixels / 1e6:.1f} MP on the {p}-px grid) is over the limit of "
            f"{args.max_pixels / 1e6:.1f} MP (--max-pixels {args.max_pixels})"
        )
    return out_w, out_h


def main(args: argparse.Namespace) -> int:
    from .cli_edit import read_picture
    from .img2img import check_strength

    check_strength(args.strength)
    picture = read_picture(args.image, keep_alpha=args.command == "img2img")
    pipe = load_pipeline(args)
    width, height = target_size(args, picture.width, picture.height, pipe.p)
    seed = resolve_seed(args.seed)
    s = pipe.settings(steps=args.steps, guidance=args.guidance, eta=args.eta, grid=args.grid, sampler=args.sampler)
    print(f"seed: {seed}  {picture.width}x{picture.height} -> {width}x{height}  model: {pipe.name}")
    it = pipe.img2img(picture, size=(height, width), strength=args.strength, seed=seed, chunk=args.chunk, **s)
    image = to_pil(run(with_progress(it, args.command)))
    params = {
        **sampling_params(s),
        "Mode": args.command,
        "Strength": args.strength,
        "Seed": seed,
        "Size": f"{width}x{height}",
        "Source": f"{args.image.name} ({picture.width}x{picture.height})",
    }
    save_png(image, args.output, pipe.params(**params))
    print(f"wrote {args.output} ({width}x{height})")
    return 0
