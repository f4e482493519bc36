"""`inpaint`, `outpaint` and `reroll`: edit a picture and save the result with its parameters.

Masks on the command line follow the popular apps: WHITE = repaint, black = keep (the core's
masks are the opposite, 1 = keep; the conversion happens here, once).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..editing.edits import EDIT_STRENGTH
from ..editing.harmonize import ANCHOR_FACTOR
from ..runtime import checks
from ..runtime.images import from_pil, repaint_mask, save_png, to_pil
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


def _ints(n: int, what: str, lo: int = 0, hi: int = 16384):
    def parse(text: str) -> tuple[int, ...]:
        try:
            values = tuple(int(v) for v in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be {n} comma-separated integers, got {text!r}") from None
        if len(values) != n:
            raise argparse.ArgumentTypeError(f"{what} must be {n} comma-separated integers, got {text!r}")
        if not all(lo <= v <= hi for v in values):
            raise argparse.ArgumentTypeError(f"{what} values must be between {lo} and {hi}, got {text!r}")
        return values

    return parse


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    num = checks.arg
    add_model_args(p)
    p.add_argument("--image", type=Path, required=True, help="picture to edit")
    if name == "inpaint":
        p.add_argument("--mask", type=Path, required=True, help="mask picture: white = repaint, black = keep")
        p.add_argument("--blur", type=num("blur", integer=True), default=8, help="feather of the mask edge, 0-256 px")
        p.add_argument(
            "--method",
            choices=["fast", "harmonized"],
            default="fast",
            help="fast: project the known area each step; harmonized: RePaint resampling (~4.6x cost)",
        )
        p.add_argument(
            "--jump", type=num("jump", integer=True), default=5, help="harmonized: steps per resampling segment (1-100)"
        )
        p.add_argument(
            "--resample", type=num("resample", integer=True), default=5, help="harmonized: runs of each segment (1-100)"
        )
        p.add_argument("--only-masked", action="store_true", help="run only the patches around the mask")
        p.add_argument(
            "--margin",
            type=num("margin", integer=True),
            default=64,
            help="context around the mask for --only-masked, 0-2048 px",
        )
    elif name == "outpaint":
        p.add_argument(
            "--extend",
            type=_ints(4, "--extend"),
            required=True,
            metavar="T,R,B,L",
            help="pixels to add at top,right,bottom,left, each 0-16384 (rounded up to whole patches)",
        )
        p.add_argument(
            "--feather",
            type=num("feather", integer=True),
            default=32,
            help="seam feather into the old picture, 0-512 px",
        )
    else:
        p.add_argument(
            "--box",
            type=_ints(4, "--box", 0, 65536),
            required=True,
            metavar="X,Y,W,H",
            help="region to re-sample (snapped outward to whole patches)",
        )
        p.add_argument("--blur", type=num("blur", integer=True), default=16, help="feather of the box edge, 0-256 px")
    add_strength_arguments(p, name)
    add_sampling_args(p)


def add_strength_arguments(p: argparse.ArgumentParser, name: str) -> None:
    """--strength (all three edits) and --content (inpaint): where on the ladder the painted area starts."""
    start = {"inpaint": "the surroundings' colours", "outpaint": "the border's colours mirrored outward"}
    p.add_argument(
        "--strength",
        type=checks.arg("strength"),
        default=EDIT_STRENGTH[name],
        help=f"0-1: 1 paints the area from pure noise; lower starts it from {start.get(name, 'the picture there')}"
        f" and keeps more of them (default {EDIT_STRENGTH[name]})",
    )
    p.add_argument(
        "--anchor",
        type=checks.arg("anchor", integer=True),
        default=ANCHOR_FACTOR,
        help="below strength 1, hold the painted area's colours (blocks of this many px, up to 64) to what it"
        f" starts from while the noise is high; 0 lets the model pick its own (default {ANCHOR_FACTOR})",
    )
    p.add_argument(
        "--model-detail",
        action="store_true",
        help="keep the model's own fine detail in the painted area (default: scaled down to the detail"
        " of the picture around it, never up)",
    )
    if name == "inpaint":
        p.add_argument(
            "--content",
            choices=["fill", "original"],
            default="fill",
            help="what the area starts from below strength 1: fill (the surroundings' colours, to remove"
            " something) or original (the pixels there now, for a variation of them)",
        )


def keep_mask_from_white(mask: Image.Image, size: tuple[int, int]) -> torch.Tensor:
    """Mask picture (white = repaint; with transparency, its strokes; images.repaint_mask, as the app) ->
    core keep mask [1,1,H,W] (1 = keep)."""
    if mask.size != size:
        raise ValueError(f"the mask is {mask.size[0]}x{mask.size[1]} but the picture is {size[0]}x{size[1]}")
    repaint = repaint_mask(mask)
    if not repaint.any():
        raise ValueError("the mask is empty: paint the area to repaint in white (transparent pixels are kept)")
    return torch.from_numpy((~repaint).astype(np.float32))[None, None]


def main(args: argparse.Namespace) -> int:
    prepare(args)
    picture = read_picture(args.image, args.max_pixels)
    w, h = picture.size
    if args.command == "outpaint":
        top, right, bottom, left = args.extend
        if not any(args.extend):
            raise ValueError("nothing to extend: give at least one side of --extend a positive number of pixels")
        canvas_fits(args, w + left + right, h + top + bottom, "grown canvas")
    else:
        canvas_fits(args, w, h, "picture")
    if args.command == "reroll":
        x, y, bw, bh = args.box
        if bw < 1 or bh < 1 or x + bw > w or y + bh > h:
            raise ValueError(f"--box {x},{y},{bw},{bh} is not inside the {w}x{h} picture")
    limit, limit_name = checks.read_limit(args.max_pixels)
    mask = checks.picture(args.mask, limit, "mask", limit_name) if args.command == "inpaint" else None  # any mode
    keep = keep_mask_from_white(mask, picture.size) if mask is not None else None
    image = from_pil(picture)
    pipe = load_pipeline(args)
    seed = resolve_seed(args.seed)
    s = settings_of(pipe, args)
    common = {"seed": seed, "chunk": args.chunk, "anchor": args.anchor, "match_detail": not args.model_detail, **s}
    params: dict[str, object] = {**sampling_params(s), "Mode": args.command, "Seed": seed, "Source": args.image.name}
    params |= {"Anchor": args.anchor, "Detail": "model" if args.model_detail else "matched"}
    if args.command == "inpaint":
        it = pipe.inpaint(
            image,
            keep,
            blur=args.blur,
            method=args.method,
            jump=args.jump,
            resample=args.resample,
            only_masked=args.only_masked,
            margin=args.margin,
            strength=args.strength,
            content=args.content,
            **common,
        )
        params |= {"Mask blur": args.blur, "Inpaint": args.method, "Only masked": args.only_masked}
        params |= {"Strength": args.strength, "Content": args.content}
        if args.method == "harmonized":
            params["RePaint"] = f"j={args.jump} r={args.resample}"
    elif args.command == "outpaint":
        it = pipe.outpaint(image, args.extend, feather_px=args.feather, strength=args.strength, **common)
        params |= {"Extend": ",".join(map(str, args.extend)), "Feather": args.feather, "Strength": args.strength}
    else:
        it = pipe.reroll(image, args.box, blur=args.blur, strength=args.strength, **common)
        params |= {"Box": ",".join(map(str, args.box)), "Mask blur": args.blur, "Strength": args.strength}
    print(f"seed: {seed}  picture: {picture.size[0]}x{picture.size[1]}  model: {pipe.name}")
    result = to_pil(run(with_progress(it, args.command)))
    params["Size"] = f"{result.size[0]}x{result.size[1]}"
    save_png(result, args.output, pipe.params(**params))
    print(f"wrote {args.output} ({result.size[0]}x{result.size[1]})")
    return 0
