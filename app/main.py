"""Start Patch-DM Studio: `patchdm-studio` (installed), `python app.py` or `python -m app`, with
[--weights FILE] [--device auto] [--host 127.0.0.1] [--port 7860]: the start-up flags, checked before anything
starts; the model (the shipped weights, or an untrained demo model); then the page, served.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path

from patchdm_core import CheckpointError, PatchDM, demo
from patchdm_core.cli.common import Parser, default_weights
from patchdm_core.composition.sources import LayoutSource, sources_beside
from patchdm_core.runtime import checks, limits, precision, threads

from .shared.imaging import Limits

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def build_parser(prog: str = "python app.py") -> argparse.ArgumentParser:
    """The app's flags (a bad one is one `error:` line and exit 2, as on the command line)."""
    p = Parser(
        prog=prog,
        description="Patch-DM Studio: paint, inpaint and outpaint wallpapers of any size in the browser.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--weights", type=Path, default=None, help="weights file (default: the shipped demo model)")
    p.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:1, mps")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 = every interface)")
    p.add_argument("--port", type=checks.arg("port", integer=True, lo=1, hi=65535), default=7860, help="port")
    p.add_argument("--outputs", type=Path, default=Path("outputs"), help="folder for finished pictures (history)")
    p.add_argument(
        "--max-pixels",
        type=checks.arg("max-pixels", integer=True, lo=1, hi=1 << 40),
        default=Limits.max_pixels,
        help="largest canvas in pixels (after snapping to the patch grid); larger requests are refused",
    )
    p.add_argument(
        "--max-upload-mb",
        type=checks.arg("max-upload-mb", integer=True, lo=1, hi=4096),
        default=50,
        help="largest upload",
    )
    p.add_argument(
        "--max-job-cost",
        type=checks.arg("max-job-cost", lo=0.001, hi=1e9),
        default=Limits.max_job_cost,
        help="largest job in megapixel-steps (canvas MP x network passes x batch); larger ones are refused "
        "before they queue, with the largest size that fits (1000 ~ 4096x2048 at 60 guided steps)",
    )
    p.add_argument(
        "--queue-size",
        type=checks.arg("queue-size", integer=True, lo=1, hi=10000),
        default=8,
        help="jobs that may wait for the model; more get 'busy'",
    )
    p.add_argument(
        "--threads",
        type=limits.threads_arg,
        default=0,
        help="CPU threads for the model, 0 (one per physical core) up to the CPUs this machine gives (1 is far "
        "faster while another job uses the CPU)",
    )
    precision.add_argument(p)
    p.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    return p


def check_flags(args: argparse.Namespace) -> None:
    """The start-up flags, checked as the command line checks its own (one ValueError sentence each) before
    the model loads or a port is opened: a device that is not here, a host that is not an address, an
    outputs folder that is a file or cannot be written (found now, not after the first job)."""
    args.device = checks.device(args.device)
    host = args.host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host != "localhost":
            raise ValueError(
                f"--host must be an address such as 127.0.0.1 (this machine only) or 0.0.0.0 (every interface), "
                f"got {host!r}"
            ) from None
    if args.outputs.exists() and not args.outputs.is_dir():
        raise ValueError(f"--outputs {args.outputs} is a file; give a folder for the finished pictures")
    checks.writable_folder(args.outputs, "--outputs")
    if args.weights is not None and args.weights.exists() and not args.weights.is_file():
        raise ValueError(f"--weights {args.weights} is not a regular file")


def load_model(weights: Path | None, device: str = "auto") -> tuple[PatchDM, str]:
    """(pipeline, banner): the given weights (errors are fatal), else the shipped ones, else an
    untrained demo model with a banner that says so."""
    if weights is not None:
        return PatchDM.load(weights, device=device), ""
    path = default_weights()
    if path.exists():
        return PatchDM.load(path, device=device), ""
    banner = f"untrained demo model: no weights found at {path}; pictures will be noise-like until weights land"
    return PatchDM.random_init(demo(), device=device), banner


def load_layouts(pipe_weights: Path | None) -> tuple[dict[str, LayoutSource], list[str]]:
    """The layout sources beside the weights file by composition name, and a console line for each that is
    there but cannot be read (the app runs without that composition then)."""
    return sources_beside(pipe_weights or default_weights())


def main(argv: list[str] | None = None, prog: str = "python app.py") -> int:
    """Check the flags, load the model, serve the page: 0 when the server stops, 2 (one `error:` line) when
    it cannot start."""
    args = build_parser(prog).parse_args(argv)
    try:
        check_flags(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(threads.configure(args.threads), file=sys.stderr)
    precision.apply(args.precision)
    try:
        pipe, banner = load_model(args.weights, args.device)
        print(precision.describe(pipe.device), file=sys.stderr)
    except (CheckpointError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from .page import CSS, THEME, build  # gradio loads here, after the flags and the model
    from .shared import serving
    from .shared.history import History
    from .shared.pace import Pace
    from .studio import Studio

    caps = Limits(
        max_pixels=args.max_pixels, max_upload_bytes=args.max_upload_mb * 2**20, max_job_cost=args.max_job_cost
    )
    layouts, problems = load_layouts(args.weights)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    studio = Studio(pipe, History(args.outputs), caps, banner, layouts, Pace())
    print(f"model: {pipe.name} ({pipe.model_hash}) on {pipe.device}; outputs: {studio.history.root}")
    studio.pace.calibrate(pipe)  # a second or two: every plan line can say how long its job takes here
    print(studio.pace.describe())
    if studio.history.cleaned:
        print(f"removed {studio.history.cleaned} unfinished temporary file(s) of an earlier run from the outputs")
    if banner:
        print(f"warning: {banner}", file=sys.stderr)
    demo = build(studio, queue_size=args.queue_size)
    try:
        demo.launch(
            server_name=args.host,
            server_port=args.port,
            share=args.share,
            allowed_paths=[str(studio.history.root)],
            app_kwargs={"middleware": serving.middleware(studio.history, caps.max_upload_bytes)},
            max_file_size=caps.max_upload_bytes,
            theme=THEME,
            css=CSS,
            footer_links=["api"],
        )
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port} ({exc}); try another --port", file=sys.stderr)
        return 2
    return 0


def command() -> int:
    """The `patchdm-studio` command that an installed package puts on the PATH (the same as python app.py)."""
    return main(prog="patchdm-studio")
