"""Command line: `python -m patchdm_core <command>` (generate, inpaint, outpaint, reroll, train, eval, bench, ...).

Each long-running command shows a tqdm bar per step; every PNG carries its parameters. One module per
family of commands (generate, edit, img2img, train, measure, defaults); their shared arguments and
helpers are in common.py.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import time
from pathlib import Path

from ..model.weights import CheckpointError
from ..runtime import limits, precision, threads
from ..runtime.devices import pick_device
from .common import Parser

# subcommand -> module that provides add_arguments(parser, name) and main(args); imported lazily
COMMANDS = {
    "generate": ("patchdm_core.cli.generate", "paint a canvas of any size"),
    "inpaint": ("patchdm_core.cli.edit", "repaint the white area of a mask"),
    "outpaint": ("patchdm_core.cli.edit", "extend a picture beyond its borders"),
    "reroll": ("patchdm_core.cli.edit", "re-sample the patches inside a box"),
    "img2img": ("patchdm_core.cli.img2img", "repaint a picture or a colour sketch at any size"),
    "upscale": ("patchdm_core.cli.img2img", "enlarge a picture with new detail (resize + img2img)"),
    "train": ("patchdm_core.cli.train", "train a Patch-DM on a folder of images"),
    "train-latent": ("patchdm_core.cli.train", "train the latent model over the global codes"),
    "train-layout": ("patchdm_core.cli.layout", "train the layout model (composition) on a folder of wallpapers"),
    "eval": ("patchdm_core.cli.measure", "seam score and SWD per sampler mode"),
    "bench": ("patchdm_core.cli.measure", "speed and memory against canvas size"),
    "bench-train": ("patchdm_core.cli.measure", "training throughput: windows/s and TFLOP/s"),
    "set-defaults": ("patchdm_core.cli.defaults", "change the sampling defaults stored in a weights file"),
}

TRAINING = ("train", "bench-train")  # commands whose precision is chosen for training, not inference


def precision_line(device: str | None, kind: str = "infer") -> str:
    """The start-up line saying which precision the network will run in (on the device the command picks)."""
    try:
        dev = pick_device(device)
    except RuntimeError:  # a device name torch does not know: the command itself reports it
        dev = "cpu"
    return precision.describe(dev, kind)


def build_parser(prog: str = "python -m patchdm_core") -> argparse.ArgumentParser:
    parser = Parser(prog=prog, description=__doc__.splitlines()[0])
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
                type=limits.threads_arg,
                default=0,
                help="CPU compute threads (0 = one per physical core); 1 is often faster beside another busy job",
            )
        if not any(a.dest == "precision" for a in p._actions):
            precision.add_argument(p)
    return parser


def main(argv: list[str] | None = None, prog: str = "python -m patchdm_core") -> int:
    """Run one command: 0 on success, 2 (and one `error:` line) for bad input, 130 for Ctrl-C at any point."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # start-up's own handler (see __init__) is done
    try:
        return _run(argv, prog)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def command() -> int:
    """The `patchdm` command that an installed package puts on the PATH (the same as python -m patchdm_core)."""
    return main(prog="patchdm")


def _run(argv: list[str] | None, prog: str) -> int:
    try:
        args = build_parser(prog).parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad command line (2, one `error:` line already printed)
        return int(exc.code or 0)
    args.argv = list(sys.argv[2:] if argv is None else argv[1:])
    try:
        check_arguments(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
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
    if args.command in ("generate", "inpaint", "outpaint", "reroll", "img2img", "upscale"):
        print(f"done in {time.perf_counter() - start:.1f} s")
    return code


def check_arguments(args: argparse.Namespace) -> None:
    """What no command can use, refused before any of them starts: text that is not valid UTF-8 (a file name
    from another system would fail only when the result is saved, after all the work), and a path that
    exists but is neither a regular file nor a folder (reading a FIFO given as --weights blocks forever)."""
    for name, value in vars(args).items():
        if name.startswith("_") or name == "argv":
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if not isinstance(item, (str, Path)):
                continue
            flag = "--" + name.replace("_", "-")
            try:
                str(item).encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"{flag} {ascii(str(item))} is not valid UTF-8 text; rename the file") from None
            path = Path(item)
            if isinstance(item, Path) or os.sep in str(item) or path.suffix:
                limits.path_length(path, f"{flag} path")  # longer ones fail only when written, after the work
                if path.exists() and not (path.is_file() or path.is_dir()):
                    raise ValueError(f"{flag} {path} is not a regular file or folder (a pipe or a device?)")
