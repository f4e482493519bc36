"""Command line: `python -m patchdm_core <command>` (generate, inpaint, outpaint, reroll, train, eval, bench, ...).

Each long-running command shows a tqdm bar per step; every PNG carries its parameters.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ..model.weights import CheckpointError
from ..runtime import checks, precision, threads
from ..sampling.noise import resolve_seed  # noqa: F401  (re-exported for the subcommands)
from ..sampling.solvers import sampling_params  # noqa: F401  (re-exported for the subcommands)

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[2] / "weights" / "patchdm-demo.safetensors"

# subcommand -> module that provides add_arguments(parser) and main(args); imported lazily
COMMANDS = {
    "generate": ("patchdm_core.cli.generate", "paint a canvas of any size"),
    "inpaint": ("patchdm_core.cli.edit", "repaint the white area of a mask"),
    "outpaint": ("patchdm_core.cli.edit", "extend a picture beyond its borders"),
    "reroll": ("patchdm_core.cli.edit", "re-sample the patches inside a box"),
    "img2img": ("patchdm_core.cli.img2img", "repaint a picture or a colour sketch at any size"),
    "upscale": ("patchdm_core.cli.img2img", "enlarge a picture with new detail (resize + img2img)"),
    "train": ("patchdm_core.cli.train", "train a Patch-DM on a folder of images"),
    "train-latent": ("patchdm_core.training.latent", "train the latent model over the global codes"),
    "eval": ("patchdm_core.evaluation.evaluate", "seam score and SWD per sampler mode"),
    "bench": ("patchdm_core.evaluation.bench", "speed and memory against canvas size"),
    "bench-train": ("patchdm_core.training.bench", "training throughput: windows/s and TFLOP/s"),
    "set-defaults": ("patchdm_core.cli.defaults", "change the sampling defaults stored in a weights file"),
}


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
        choices=["tiny", "demo", "paper"],
        default=None,
        help="use an untrained model of this preset instead of weights (for trying the tools)",
    )
    p.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:1, mps")


def add_sampling_args(p: argparse.ArgumentParser) -> None:
    from ..sampling.denoiser import GRIDS
    from ..sampling.solvers import SAMPLERS

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
        "--sampler",
        choices=list(SAMPLERS),
        default=None,
        help="solver: DDIM or DPM-Solver++(2M) (default: the model's)",
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


def model_patch_size(args: argparse.Namespace) -> int:
    """The patch size of the model --weights / --random-init names (64 if its header is unreadable:
    loading it will then say what is wrong)."""
    from ..model.config import PatchDMConfig, preset

    if args.random_init:
        return preset(args.random_init).patch_size
    try:
        from safetensors import safe_open

        with safe_open(str(args.weights or default_weights()), framework="pt") as f:
            return PatchDMConfig.from_json((f.metadata() or {})["config"]).patch_size
    except Exception:  # noqa: BLE001 - any header problem is reported by the loader, with its own message
        return 64


def load_pipeline(args: argparse.Namespace):
    """The PatchDM that --weights / --random-init ask for (clear error if the weights are missing)."""
    from ..model.config import preset
    from ..pipeline import PatchDM

    if args.random_init:
        print(f"using an untrained {args.random_init} model (--random-init): expect noise, not pictures")
        return PatchDM.random_init(preset(args.random_init), device=args.device)
    path = args.weights or default_weights()
    if not path.exists():
        raise CheckpointError(
            f"weights file not found: {path} (train one, or pass --random-init demo to try the tools)"
        )
    return PatchDM.load(path, device=args.device, clip_weights=getattr(args, "clip_weights", None))


TRAINING = ("train", "bench-train")  # commands whose precision is chosen for training, not inference


def precision_line(device: str | None, kind: str = "infer") -> str:
    """The start-up line saying which precision the network will run in (on the device the command picks)."""
    from ..runtime.devices import pick_device

    try:
        dev = pick_device(device)
    except RuntimeError:  # a device name torch does not know: the command itself reports it
        dev = "cpu"
    return precision.describe(dev, kind)


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


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m patchdm_core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(
            name, help=help_text, description=help_text, formatter_class=argparse.ArgumentDefaultsHelpFormatter
        )
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p, name)
        if not any(a.dest == "threads" for a in p._actions):
            p.add_argument(
                "--threads",
                type=checks.arg("threads", integer=True, lo=0, hi=1024),
                default=0,
                help="CPU compute threads (0 = one per physical core); 1 is often faster beside another busy job",
            )
        if not any(a.dest == "precision" for a in p._actions):
            precision.add_argument(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad command line (2, one `error:` line already printed)
        return int(exc.code or 0)
    args.argv = list(sys.argv[2:] if argv is None else argv[1:])
    print(threads.configure(args.threads))
    precision.apply(args.precision)
    start = time.perf_counter()
    try:
        print(precision_line(getattr(args, "device", None), "train" if args.command in TRAINING else "infer"))
        code = importlib.import_module(args._module).main(args) or 0
    except (CheckpointError, ValueError, FileNotFoundError, NotADirectoryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a disk that fills up or a folder that vanished mid-run: still one line
        print(f"error: {exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if args.command in ("generate", "inpaint", "outpaint", "reroll", "img2img", "upscale"):
        print(f"done in {time.perf_counter() - start:.1f} s")
    return code
