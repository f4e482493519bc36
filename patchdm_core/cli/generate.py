"""`generate`: paint a canvas of any size (or a screen's, or one picture across several monitors) and save
it as a PNG with its parameters; a span also writes one PNG per monitor, cut from the whole picture."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..composition.designs import FAMILIES
from ..composition.sources import (
    ALIASES,
    COMPOSITIONS,
    DEFAULT_COMPOSITION,
    HOWS,
    STRENGTH,
    PictureLayout,
    composition_name,
)
from ..runtime import checks
from ..runtime.images import save_png, to_pil
from ..runtime.screens import Monitor, parse_span, presets_help, span_layout
from ..runtime.sizes import parse_size
from ..sampling.denoiser import MODES
from ..sampling.noise import resolve_seed
from ..sampling.palette import STRENGTH as PALETTE_STRENGTH
from ..sampling.solvers import run, sampling_params
from ..sampling.structure import Structure
from .common import (
    add_model_args,
    add_sampling_args,
    canvas_fits,
    load_layouts,
    load_pipeline,
    prepare,
    settings_of,
    with_progress,
)


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
    add_composition_args(p)


def add_composition_args(p: argparse.ArgumentParser) -> None:
    """Where the canvas's large shapes come from, and how they are brought in."""
    g = p.add_argument_group("composition")
    g.add_argument(
        "--composition",
        choices=[*COMPOSITIONS, *ALIASES],
        default=DEFAULT_COMPOSITION,
        help="where the canvas's large shapes come from: none (the model alone: colour fields), designed (a "
        "layout drawn from the seed: waves, ridges, a horizon, blobs, planes, ribbons, rings, a gradient mesh), "
        "training-layouts (a training picture's layout, from --layouts: repaints of those pictures), "
        f"layout-model (a new one the model of --layout-model samples) (default {DEFAULT_COMPOSITION})",
    )
    g.add_argument(
        "--layout-from",
        type=Path,
        default=None,
        metavar="PICTURE",
        help="paint on the composition of this picture (its large shapes and colours) instead of --composition",
    )
    g.add_argument("--layout-family", choices=list(FAMILIES), default=None, help="designed: one family (default: any)")
    g.add_argument(
        "--layout-palette",
        choices=["rule", "style"],
        default=None,
        help="designed: colours by a colour-harmony rule, or those of --style (default: style when --style is given)",
    )
    g.add_argument(
        "--layout-seed",
        type=checks.arg("layout-seed", integer=True, lo=0, hi=checks.MAX_SEED),
        default=None,
        help="the seed of the layout (default: the picture's --seed): the same layout under other seeds' strokes",
    )
    g.add_argument(
        "--compose-with",
        choices=list(HOWS),
        default="structure",
        help="structure: the layout's large shapes held at every step, the model's texture (default); img2img: a "
        "variation of the layout picture, softer (--layout-strength)",
    )
    g.add_argument(
        "--structure-strength",
        type=checks.arg("structure-strength", lo=0, hi=1),
        default=Structure().strength,
        help=f"how closely the canvas's large shapes follow the layout, 0-1 (default {Structure().strength:g})",
    )
    g.add_argument(
        "--structure-band",
        type=checks.arg("structure-band", integer=True, lo=2, hi=256),
        default=Structure().band,
        help=f"px: the layout sets what is larger than this, the model the rest (default {Structure().band})",
    )
    g.add_argument(
        "--structure-stop",
        type=checks.arg("structure-stop", integer=True, lo=0, hi=999),
        default=Structure().t_stop,
        help=f"timestep below which the layout lets go, 0-999 (default {Structure().t_stop}: never)",
    )
    g.add_argument(
        "--layouts",
        type=Path,
        default=None,
        help="training-layouts: the bank, a PNG sheet of thumbnails (scripts/layout_bank.py; default: "
        "WEIGHTS-layouts.png beside the weights file)",
    )
    g.add_argument(
        "--layout-model",
        type=Path,
        default=None,
        help="layout-model: the model file (train-layout; default: WEIGHTS-layout.safetensors beside the weights)",
    )
    g.add_argument(
        "--layout-strength",
        type=checks.arg("layout-strength", lo=0.05, hi=1),
        default=STRENGTH,
        help=f"--compose-with img2img: how freely the layout is repainted, 0.05-1 (default {STRENGTH})",
    )


def composition_of(args: argparse.Namespace, limit: int, limit_name: str) -> tuple[object | None, dict]:
    """The layout source the arguments name (None: plain generate) and its PNG parameters, checked before any
    work: a --layout-from picture is read like --style."""
    if args.layout_from is not None:
        picture = checks.picture(args.layout_from, limit, "layout picture", limit_name)
        return PictureLayout(picture), {"Composition": "picture", "Layout": str(args.layout_from)}
    name = composition_name(args.composition)
    if name == "none":
        return None, {}
    if args.layout_palette == "style" and args.style is None:
        raise ValueError("--layout-palette style needs --style (the picture whose colours the layout takes)")
    args.layout_palette = args.layout_palette or ("style" if args.style is not None else "rule")
    return load_layouts(args, name), {"Composition": name}


def composition_params(args: argparse.Namespace, source: object, seed: int) -> dict:
    """PNG parameters of how the layout was brought in, and its seed and family."""
    params: dict = {"Layout seed": seed if args.layout_seed is None else args.layout_seed}
    if getattr(source, "last_family", None):
        params["Layout family"] = source.last_family
    if args.compose_with == "img2img":
        return params | {"Compose": "img2img", "Layout strength": args.layout_strength}
    return params | {
        "Compose": "structure",
        "Structure strength": args.structure_strength,
        "Structure band": args.structure_band,
        "Structure stop": args.structure_stop,
    }


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
    limit, limit_name = checks.read_limit(args.max_pixels)
    style = checks.picture(args.style, limit, "style reference", limit_name) if args.style else None
    args.style_picture = style
    palette = PALETTE_STRENGTH if args.palette_strength is None else args.palette_strength
    source, comp_params = composition_of(args, limit, limit_name)
    pipe = load_pipeline(args)
    seed = resolve_seed(args.seed)
    z = pipe.encode_style(style) if style is not None else None
    s = settings_of(pipe, args)
    print(f"seed: {seed}  size: {width}x{height}  model: {pipe.name}  device: {pipe.device}")
    kw = dict(mode=args.mode, tileable=args.tileable or False, chunk=args.chunk, positions=args.positions, **s)
    kw["stride"] = args.stride
    steer = dict(palette=style, palette_strength=palette)
    if source is not None:
        structure = Structure(args.structure_band, args.structure_strength, args.structure_stop)
        it = pipe.compose(
            source, height, width, seed=seed, layout_seed=args.layout_seed, how=args.compose_with,
            structure=structure, strength=args.layout_strength, z=z, **steer, **kw,
        )  # fmt: skip
    else:
        it = pipe.generate(height, width, seed=seed, z=z, **steer, **kw)
    image = to_pil(run(with_progress(it, "generate")))
    params = {**sampling_params(s, args.mode), "Seed": seed, "Size": f"{width}x{height}"}
    if source is not None:
        params |= comp_params | composition_params(args, source, seed)
    if args.tileable:
        params["Tileable"] = args.tileable
    if args.style:
        params["Style"] = args.style
        if source is None or args.compose_with == "structure":
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
