"""`img2img` and `upscale`: repaint a picture or a sketch at any size, or enlarge one with new detail.

    python -m patchdm_core img2img --image sketch.png --size 3840x2160 --strength 0.6 -o out.png
    python -m patchdm_core upscale --image small.png --scale 2 -o big.png

A sketch's transparent areas carry no guidance: they are painted freely (strength 1 there).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..editing.steering import UPSCALE_DETAIL_STRENGTH, UPSCALE_STRENGTH
from ..runtime import checks
from ..runtime.images import save_png, to_pil
from ..runtime.sizes import parse_size
from ..sampling.noise import resolve_seed
from ..sampling.solvers import run, sampling_params
from .common import (
    add_model_args,
    add_sampling_args,
    canvas_fits,
    load_pipeline,
    prepare,
    read_picture,
    settings_of,
    with_progress,
)


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    add_model_args(p)
    p.add_argument("--image", type=Path, required=True, help="picture or sketch to start from")
    if name == "img2img":
        p.add_argument(
            "--size", type=parse_size, default=None, metavar="WxH", help="output size (default: the picture's)"
        )
        p.add_argument(
            "--strength",
            type=checks.arg("strength"),
            default=0.6,
            help="0-1: 0 = the picture back, 1 = a new picture in its palette",
        )
    else:
        group = p.add_mutually_exclusive_group(required=True)
        group.add_argument(
            "--scale",
            type=checks.arg("scale"),
            default=None,
            help="enlarge by this factor, 0.05-16 (2 = twice the width)",
        )
        group.add_argument("--size", type=parse_size, default=None, metavar="WxH", help="output size")
        p.add_argument(
            "--how",
            choices=["structure", "img2img"],
            default="structure",
            help="structure: the picture's large shapes held at every step, so the strength can paint new detail "
            "(default); img2img: the resize repainted from a noised start only (a low strength keeps the picture)",
        )
        p.add_argument(
            "--strength",
            type=checks.arg("strength"),
            default=None,
            help=f"0-1: how much is painted anew (default {UPSCALE_DETAIL_STRENGTH} with --how structure, "
            f"{UPSCALE_STRENGTH} with img2img)",
        )
    add_sampling_args(p)


def target_size(args: argparse.Namespace, width: int, height: int, p: int) -> tuple[int, int]:
    """(width, height) of the output, checked against --max-pixels before any work."""
    if args.size is not None:
        out_w, out_h = args.size
    elif args.command == "upscale":
        out_w, out_h = round(width * args.scale), round(height * args.scale)
    else:
        out_w, out_h = width, height
    canvas_fits(args, out_w, out_h, "output")
    return out_w, out_h


def main(args: argparse.Namespace) -> int:

    p = prepare(args)
    limit, limit_name = checks.read_limit(args.max_pixels)
    picture = read_picture(args.image, limit, keep_alpha=args.command == "img2img", limit_name=limit_name)
    width, height = target_size(args, picture.width, picture.height, p)
    if picture.mode == "RGBA" and picture.getchannel("A").getextrema()[1] < 128:
        raise ValueError("the sketch is empty (fully transparent): paint something or give a picture")
    pipe = load_pipeline(args)
    seed = resolve_seed(args.seed)
    s = settings_of(pipe, args)
    print(f"seed: {seed}  {picture.width}x{picture.height} -> {width}x{height}  model: {pipe.name}")
    if args.command == "upscale":
        how = args.how
        if args.strength is None:
            args.strength = UPSCALE_DETAIL_STRENGTH if how == "structure" else UPSCALE_STRENGTH
        it = pipe.upscale(
            picture, size=(height, width), strength=args.strength, how=how, seed=seed, chunk=args.chunk, **s
        )
    else:
        it = pipe.img2img(picture, size=(height, width), strength=args.strength, seed=seed, chunk=args.chunk, **s)
    image = to_pil(run(with_progress(it, args.command)))
    params = {
        **sampling_params(s),
        "Mode": args.command,
        "Strength": args.strength,
        **({"Upscale": args.how} if args.command == "upscale" else {}),
        "Seed": seed,
        "Size": f"{width}x{height}",
        "Source": f"{args.image.name} ({picture.width}x{picture.height})",
    }
    save_png(image, args.output, pipe.params(**params))
    print(f"wrote {args.output} ({width}x{height})")
    return 0
