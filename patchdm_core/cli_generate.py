"""`generate`: paint a canvas of any size and save it as a PNG with its parameters."""

from __future__ import annotations

import argparse

from .cli import (
    add_model_args,
    add_sampling_args,
    load_pipeline,
    parse_size,
    resolve_seed,
    sampling_params,
    with_progress,
)
from .denoiser import MODES
from .images import save_png, to_pil
from .sampler import run


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    add_model_args(p)
    p.add_argument(
        "--size",
        type=parse_size,
        default=(1024, 512),
        metavar="WxH",
        help="canvas size; sizes off the patch grid are painted larger and centre-cropped",
    )
    add_sampling_args(p)
    p.add_argument(
        "--mode",
        choices=MODES,
        default="feature",
        help="sampler: feature (Patch-DM); naive, pixel, sliding for comparison",
    )
    p.add_argument("--stride", type=int, default=None, help="sliding-window stride in pixels (mode sliding)")
    p.add_argument(
        "--tileable",
        nargs="?",
        const="xy",
        default=None,
        choices=["x", "y", "xy"],
        help="wrap-around so the picture tiles seamlessly (both axes, or only x or y)",
    )
    p.add_argument(
        "--positions",
        choices=["absolute", "stretch"],
        default=None,
        help="patch positions on canvases larger than the training images (default: the model's)",
    )
    p.add_argument("--style", default=None, help="reference picture whose global code to paint with")


def main(args: argparse.Namespace) -> int:
    from PIL import Image

    pipe = load_pipeline(args)
    seed = resolve_seed(args.seed)
    width, height = args.size
    z = pipe.encode_style(Image.open(args.style)) if args.style else None
    s = pipe.settings(steps=args.steps, guidance=args.guidance, eta=args.eta, grid=args.grid, sampler=args.sampler)
    print(f"seed: {seed}  size: {width}x{height}  model: {pipe.name}  device: {pipe.device}")
    it = pipe.generate(
        height,
        width,
        seed=seed,
        z=z,
        mode=args.mode,
        tileable=args.tileable or False,
        chunk=args.chunk,
        positions=args.positions,
        stride=args.stride,
        **s,
    )
    image = to_pil(run(with_progress(it, "generate")))
    params = {**sampling_params(s, args.mode), "Seed": seed, "Size": f"{width}x{height}"}
    if args.tileable:
        params["Tileable"] = args.tileable
    if args.style:
        params["Style"] = args.style
    save_png(image, args.output, pipe.params(**params))
    print(f"wrote {args.output}")
    return 0
