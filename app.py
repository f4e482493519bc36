"""Launch Patch-DM Studio: `python app.py [--weights FILE] [--device auto] [--host 127.0.0.1] [--port 7860]`."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def main(argv: list[str] | None = None) -> int:
    from app.state import CheckpointError, build_parser, load_model

    args = build_parser().parse_args(argv)
    from app.state import check_flags
    from patchdm_core.runtime import precision, threads

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
    from app import serving
    from app.handlers import Studio
    from app.history import History
    from app.imaging import Limits
    from app.state import load_layouts
    from app.ui import CSS, THEME, build

    limits = Limits(
        max_pixels=args.max_pixels, max_upload_bytes=args.max_upload_mb * 2**20, max_job_cost=args.max_job_cost
    )
    layouts, problems = load_layouts(args.weights)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    studio = Studio(pipe, History(args.outputs), limits, banner, layouts)
    print(f"model: {pipe.name} ({pipe.model_hash}) on {pipe.device}; outputs: {studio.history.root}")
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
            app_kwargs={"middleware": serving.middleware(studio.history, limits.max_upload_bytes)},
            max_file_size=limits.max_upload_bytes,
            theme=THEME,
            css=CSS,
            footer_links=["api"],
        )
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port} ({exc}); try another --port", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
