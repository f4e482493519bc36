"""`generate`: paint a canvas of any size and save it as a PNG with its parameters."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..runtime import checks
from ..runtime.images import save_png, to_pil
from ..runtime.sizes import parse_size
from ..sampling.denoiser import MODES
from ..sampling.noise import resolve_seed
from ..sampling.solvers import run, sampling_params
from .common import add_model_args, add_sampling_args, load_pipeline, prepare, with_progress


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
    p.add_argument(
        "--stride",
        type=checks.arg("stride", integer=True),
        default=None,
        help="sliding-window stride in pixels, 1 to the patch size (mode sliding; default half a patch)",
    )
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
    p.add_argument("--style", type=Path, default=None, help="reference picture whose global code to paint with")


def main(args: argparse.Namespace) -> int:
    p = prepare(args)
    width, height = args.size
    checks.canvas(width, height, p, args.max_pixels)
    if args.stride is not None and args.stride > p:
        raise ValueError(f"--stride must be between 1 and the patch size {p}, got {args.stride}")
    if args.tileable and args.mode != "feature":
        raise ValueError("tileable output needs the feature sampler (--mode feature)")
    limit, limit_name = checks.read_limit(args.max_pixels)
    style = checks.picture(args.style, limit, "style reference", limit_name) if args.style else None
    pipe = load_pipeline(args)
    seed = resolve_seed(args.seed)
    z = pipe.encode_style(style) if style is not None else None
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
