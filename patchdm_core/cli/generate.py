"""`generate`: paint a canvas of any size (or a screen's, or one picture across several monitors) and save
it as a PNG with its parameters; a span also writes one PNG per monitor, cut from the whole picture."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..editing.layout import COMPOSITIONS, STRENGTH
from ..runtime import checks
from ..runtime.images import save_png, to_pil
from ..runtime.screens import Monitor, parse_span, presets_help, span_layout
from ..runtime.sizes import parse_size
from ..sampling.denoiser import MODES
from ..sampling.noise import resolve_seed
from ..sampling.palette import STRENGTH as PALETTE_STRENGTH
from ..sampling.solvers import run, sampling_params
from .common import add_model_args, add_sampling_args, canvas_fits, load_layouts, load_pipeline, prepare, with_progress


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    add_model_args(p)
    p.add_argument(
        "--size",
        type=parse_size,
        default=None,
        metavar="WxH",
        help="canvas size, WxH or a screen: " + presets_help() + "; sizes off the patch grid are painted on whole "
        "patches and centre-cropped (resampled with wrap-around when tileable) (default 1024x512)",
    )
    p.add_argument(
        "--span",
        type=span_arg,
        default=None,
        metavar="WxH+X+Y,...",
        help="one picture across several monitors, as display settings give them (a screen name may stand for "
        "WxH): writes the whole picture to --output and each monitor's part to OUTPUT-monitor<N>.png",
    )
    p.add_argument(
        "--bezel",
        type=checks.arg("bezel", integer=True, lo=0, hi=4096),
        default=0,
        help="--span: pixels of physical gap between neighbouring monitors, painted but in no monitor's file",
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
    p.add_argument(
        "--style", type=Path, default=None, help="reference picture whose global code and colours to paint with"
    )
    p.add_argument(
        "--palette-strength",
        type=checks.arg("palette-strength", lo=0, hi=1),
        default=None,
        help=f"how strongly --style's colours steer the canvas at every step, 0-1 (default {PALETTE_STRENGTH}; "
        "0: its global code alone)",
    )
    p.add_argument(
        "--composition",
        choices=COMPOSITIONS,
        default="none",
        help="paint on the large shapes of a 64x32 layout instead of from noise alone: layouts takes a training "
        "picture's (from the bank of --layouts, picked by the seed), layout-model samples a new one (the "
        "model of --layout-model) (default none)",
    )
    p.add_argument(
        "--layouts",
        type=Path,
        default=None,
        help="the layout bank, a PNG sheet of thumbnails (scripts/layout_bank.py; default: WEIGHTS-layouts.png "
        "beside the weights file)",
    )
    p.add_argument(
        "--layout-model",
        type=Path,
        default=None,
        help="the layout model (train-layout; default: WEIGHTS-layout.safetensors beside the weights file)",
    )
    p.add_argument(
        "--layout-strength",
        type=checks.arg("layout-strength", lo=0.05, hi=1),
        default=STRENGTH,
        help=f"how freely the layout is repainted, 0.05-1 (default {STRENGTH})",
    )


def span_arg(text: str) -> list[Monitor]:
    """--span as monitors (argparse type)."""
    try:
        return parse_span(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def monitor_files(output: Path, count: int) -> list[Path]:
    """out.png -> out-monitor1.png, out-monitor2.png, ..."""
    return [output.with_name(f"{output.stem}-monitor{i + 1}{output.suffix}") for i in range(count)]


def main(args: argparse.Namespace) -> int:
    p = prepare(args)
    if args.span and args.size:
        raise ValueError("give --size or --span, not both (a span's size is its monitors' bounding box)")
    if args.bezel and not args.span:
        raise ValueError("--bezel needs --span (it is the gap between the monitors of a span)")
    monitors = []
    if args.span:
        (width, height), monitors = span_layout(args.span, args.bezel)
        for path in monitor_files(args.output, len(monitors)):
            checks.output_png(path)
    else:
        width, height = args.size or (1024, 512)
    canvas_fits(args, width, height)
    if args.stride is not None and args.stride > p:
        raise ValueError(f"--stride must be between 1 and the patch size {p}, got {args.stride}")
    if args.tileable and args.mode != "feature":
        raise ValueError("tileable output needs the feature sampler (--mode feature)")
    if args.palette_strength is not None and not args.style:
        raise ValueError("--palette-strength needs --style (the picture whose colours it carries)")
    if args.palette_strength and args.composition != "none":
        raise ValueError(
            f"--palette-strength does not apply to --composition {args.composition} (the layout sets the colours)"
        )
    limit, limit_name = checks.read_limit(args.max_pixels)
    style = checks.picture(args.style, limit, "style reference", limit_name) if args.style else None
    palette = PALETTE_STRENGTH if args.palette_strength is None else args.palette_strength
    source = load_layouts(args, args.composition) if args.composition != "none" else None
    pipe = load_pipeline(args)
    seed = resolve_seed(args.seed)
    z = pipe.encode_style(style) if style is not None else None
    s = pipe.settings(steps=args.steps, guidance=args.guidance, eta=args.eta, grid=args.grid, sampler=args.sampler)
    print(f"seed: {seed}  size: {width}x{height}  model: {pipe.name}  device: {pipe.device}")
    kw = dict(mode=args.mode, tileable=args.tileable or False, chunk=args.chunk, positions=args.positions, **s)
    kw["stride"] = args.stride
    if source is not None:
        it = pipe.compose(source, height, width, seed=seed, strength=args.layout_strength, z=z, **kw)
    else:
        it = pipe.generate(height, width, seed=seed, z=z, palette=style, palette_strength=palette, **kw)
    image = to_pil(run(with_progress(it, "generate")))
    params = {**sampling_params(s, args.mode), "Seed": seed, "Size": f"{width}x{height}"}
    if source is not None:
        params |= {"Composition": args.composition, "Layout strength": args.layout_strength}
    if args.tileable:
        params["Tileable"] = args.tileable
    if args.style:
        params["Style"] = args.style
        if source is None:
            params["Palette strength"] = palette
    if monitors:
        params |= {"Span": ",".join(m.text() for m in args.span), "Bezel": args.bezel}
    save_png(image, args.output, pipe.params(**params))
    print(f"wrote {args.output}")
    for i, (m, path) in enumerate(zip(monitors, monitor_files(args.output, len(monitors)))):
        crop = {"Monitor": f"{i + 1}/{len(monitors)}", "Crop": m.text()}
        save_png(image.crop(m.box), path, pipe.params(**params, **crop))
        print(f"wrote {path} (monitor {i + 1}: {m.width}x{m.height} at {m.x},{m.y} of the whole picture)")
    return 0
