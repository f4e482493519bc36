"""What the commands share: the parser that reports a bad command line in one line, the model and sampling
arguments, the checks every painting command makes before any work, loading the model a command names,
reading a picture file, and the progress bar."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from PIL import Image

from ..composition.sources import DesignedLayouts, LayoutBank, bank_beside, model_beside
from ..model.config import PatchDMConfig
from ..model.layout import load_layout_model
from ..model.presets import preset
from ..model.weights import CheckpointError
from ..pipeline import PatchDM
from ..runtime import checks, limits
from ..runtime.images import normalize_mode
from ..runtime.shipped import shipped_weights
from ..sampling.memory import job_bytes
from ..sampling.positions import GRIDS
from ..sampling.presets import PRESETS
from ..sampling.presets import preset as preset_settings
from ..sampling.solvers import SAMPLERS

DEFAULT_WEIGHTS = shipped_weights()  # weights/ of a checkout, else the installed package's copy


def default_weights() -> Path:
    """$PATCHDM_WEIGHTS, else the shipped demo weights."""
    return Path(os.environ.get("PATCHDM_WEIGHTS", DEFAULT_WEIGHTS))


class Parser(argparse.ArgumentParser):
    """argparse with one `error: ...` line (and exit code 2) for a bad command line, no usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {self.prog.removeprefix('python -m ')}: {message} (see --help)\n")


def add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", type=Path, default=None, help="weights file (default: the shipped demo model)")
    p.add_argument(
        "--random-init",
        choices=["tiny", "demo", "demo-wide", "paper"],
        default=None,
        help="use an untrained model of this preset instead of weights (for trying the tools)",
    )
    p.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:1, mps")


def parse_interval(text: str) -> tuple[int, int]:
    """'200-800' -> (200, 800): timesteps 0 <= LO <= HI <= 999 that get guidance (ValueError otherwise)."""
    lo, sep, hi = text.partition("-")
    if not sep:
        raise ValueError(f"guidance interval must be LO-HI timesteps, got {text!r}")
    lo, hi = (checks.number("guidance interval", v, integer=True, lo=0, hi=999) for v in (lo, hi))
    if lo > hi:
        raise ValueError(f"guidance interval must run from low to high, got {text!r}")
    return lo, hi


def interval_arg(text: str) -> tuple[int, int]:
    """--guidance-interval (argparse type)."""
    try:
        return parse_interval(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def settings_of(pipe: PatchDM, args: argparse.Namespace) -> dict[str, object]:
    """The sampling settings the command line asks for: its flags, then --preset's, then the model's defaults."""
    base = preset_settings(getattr(args, "preset", None))
    keys = ("steps", "guidance", "eta", "grid", "sampler", "guidance_interval")
    given = {k: getattr(args, k) for k in keys}
    return pipe.settings(**(base | {k: v for k, v in given.items() if v is not None}))


def add_sampling_args(p: argparse.ArgumentParser) -> None:

    num = checks.arg
    p.add_argument(
        "--seed", type=num("seed", integer=True), default=-1, help="-1 = random; the seed used is printed and saved"
    )
    p.add_argument(
        "--steps",
        type=num("steps", integer=True),
        default=None,
        help="solver steps = model evaluations, 1-1000 (default: the model's)",
    )
    p.add_argument(
        "--guidance",
        type=num("guidance"),
        default=None,
        help="classifier-free guidance scale, 0-20 (default: the model's)",
    )
    p.add_argument(
        "--preset",
        choices=list(PRESETS),
        default=None,
        help="a named set of solver settings instead of the model's defaults: fast (the default of the shipped "
        "model: 12 steps, guidance 1.75 at timesteps 450-999 only), quality (v1.4's: guidance 1.5 at every "
        "step, 1.4x the work); flags given beside it win",
    )
    p.add_argument(
        "--guidance-interval",
        type=interval_arg,
        default=None,
        metavar="LO-HI",
        help="timesteps (0-999) that get guidance; the others cost one network pass instead of two (default: the "
        "model's)",
    )
    p.add_argument(
        "--sampler",
        choices=list(SAMPLERS),
        default=None,
        help="solver: DDIM, DPM-Solver++(2M) or (3M), UniPC (default: the model's)",
    )
    p.add_argument(
        "--grid",
        choices=list(GRIDS),
        default=None,
        help="feature mode: where the patch grid sits each step: fixed (the paper), alternate (half a patch every "
        "other step), random (a new offset every step) (default: the model's)",
    )
    p.add_argument(
        "--eta",
        type=num("eta"),
        default=None,
        help="stochasticity, 0-1: DDIM eta / DPM++ SDE share, 0 = deterministic (default: the model's)",
    )
    p.add_argument(
        "--chunk", type=num("chunk", integer=True), default=None, help="patches per network call (default: by device)"
    )
    p.add_argument(
        "--max-pixels",
        type=num("max-pixels", integer=True, lo=1, hi=1 << 40),
        default=checks.MAX_PIXELS,
        help="refuse canvases larger than this many pixels (after rounding to the patch grid), as the app does",
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="output PNG (checked before any work)")


def prepare(args: argparse.Namespace) -> int:
    """Checks every painting command makes before any work: device, output path. Returns the model's
    patch size (read from the weights file's header, without loading it) for the canvas checks."""
    args.device = checks.device(args.device)
    checks.output_png(args.output)
    return model_patch_size(args)


def model_config(args: argparse.Namespace) -> PatchDMConfig | None:
    """The config of the model --weights / --random-init names, read from the weights file's header without
    loading it (None if unreadable: loading it will then say what is wrong)."""

    if args.random_init:
        return preset(args.random_init)
    try:
        from safetensors import safe_open

        with safe_open(str(args.weights or default_weights()), framework="pt") as f:
            return PatchDMConfig.from_json((f.metadata() or {})["config"])
    except Exception:  # noqa: BLE001 - any header problem is reported by the loader, with its own message
        return None


def model_patch_size(args: argparse.Namespace) -> int:
    """The patch size of the model the command names (64 if its header is unreadable)."""
    cfg = model_config(args)
    return cfg.patch_size if cfg is not None else 64


def canvas_fits(args: argparse.Namespace, width: int, height: int, what: str = "canvas", batch: int = 1) -> None:
    """A width x height canvas within --max-pixels and within the memory this machine has free (estimated from
    the model's config: sampling/memory.py), or ValueError saying what would fit."""
    cfg = model_config(args)
    p = cfg.patch_size if cfg is not None else 64
    checks.canvas(width, height, p, args.max_pixels, what)
    if cfg is None:
        return
    guidance = getattr(args, "guidance", None)
    guided = (cfg.sampling.guidance if guidance is None else guidance) != 1
    chunk = getattr(args, "chunk", None) or 64

    def need_at(w: int, h: int) -> int:
        return job_bytes(cfg, h, w, batch=batch, guided=guided, chunk=chunk)

    limits.memory(width, height, p, need_at, what, args.max_pixels)


def load_pipeline(args: argparse.Namespace):
    """The PatchDM that --weights / --random-init ask for (clear error if the weights are missing)."""

    if args.random_init:
        print(f"using an untrained {args.random_init} model (--random-init): expect noise, not pictures")
        return PatchDM.random_init(preset(args.random_init), device=args.device)
    path = args.weights or default_weights()
    if not path.exists():
        raise CheckpointError(
            f"weights file not found: {path} (train one, or pass --random-init demo to try the tools)"
        )
    return PatchDM.load(path, device=args.device, clip_weights=getattr(args, "clip_weights", None))


def with_progress(steps: Iterator, desc: str) -> Iterator:
    """Wrap a Step iterator in a tqdm bar that learns its total from the first step."""
    from tqdm import tqdm

    bar = None
    try:
        for step in steps:
            if bar is None:
                bar = tqdm(total=step.total, desc=desc, unit="step", file=sys.stderr)
            bar.update(1)
            yield step
    finally:
        if bar is not None:
            bar.close()


def read_picture(
    path: Path, max_pixels: int, what: str = "picture", keep_alpha: bool = False, limit_name: str = "--max-pixels"
) -> Image.Image:
    """A picture file as 8-bit RGB (or RGBA when `keep_alpha` and it has transparency), with the clear
    errors of checks.picture for missing, damaged, non-picture and oversized files."""
    img = checks.picture(path, max_pixels, what, limit_name)
    if keep_alpha and (img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info):
        return img.convert("RGBA")
    return normalize_mode(img)


def load_layouts(args: argparse.Namespace, composition: str) -> object:
    """The layout source of a composition: "designed" draws them (--layout-family, in the palette of --style
    when given), "training-layouts" is the bank (--layouts, else WEIGHTS-layouts.png beside the weights file),
    "layout-model" the model (--layout-model, else WEIGHTS-layout.safetensors)."""
    weights = getattr(args, "weights", None) or default_weights()
    if composition == "designed":
        family = getattr(args, "layout_family", None)
        style = getattr(args, "style_picture", None)
        return DesignedLayouts(family, style if getattr(args, "layout_palette", "rule") == "style" else None)
    if composition == "training-layouts":
        path = getattr(args, "layouts", None) or bank_beside(weights)
        if not path.is_file():
            raise ValueError(f"composition training-layouts: no layout bank at {path} (give --layouts FILE)")
        return LayoutBank.load(path)
    path = getattr(args, "layout_model", None) or model_beside(weights)
    if not path.is_file():
        raise ValueError(
            f"composition layout-model: no layout model at {path} (train one with train-layout, give --layout-model)"
        )
    return load_layout_model(path)
