"""`eval`, `bench` and `bench-train`: the commands that measure (quality of pictures, speed of a sampler step,
training throughput). What they measure is in evaluation/ and training/bench.py; this is their arguments.

    python -m patchdm_core eval --data data/wallpapers/heldout --n 8 --sizes 1024x512 \\
        --grids fixed,alternate,random --samplers ddim:25,dpmpp-2m:10,dpmpp-2m:15 --etas 0,0.5
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ..composition.sources import HOWS, LayoutBank, bank_beside, composition_name
from ..composition.sources import STRENGTH as LAYOUT_STRENGTH
from ..evaluation import bench, image_bench
from ..evaluation.evaluate import composition_table, evaluate, markdown, settings_grid, write_report
from ..model.presets import load_config, preset
from ..pipeline import PatchDM
from ..runtime import checks
from ..runtime.devices import pick_device
from ..runtime.peak import network_dtype, peak_tflops
from ..runtime.sizes import sizes
from ..sampling.denoiser import MODES
from ..sampling.positions import GRIDS
from ..sampling.solvers import get_sampler
from ..training import bench as bench_train
from .common import add_model_args, default_weights, load_layouts, load_pipeline, parse_interval
from .train import add_speed_argument, add_window_arguments


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    {"eval": add_eval_arguments, "bench": add_bench_arguments, "bench-train": add_bench_train_arguments}[name](p)


def main(args: argparse.Namespace) -> int:
    return {"eval": main_eval, "bench": main_bench, "bench-train": main_bench_train}[args.command](args)


# -- eval -------------------------------------------------------------------------------------------


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    add_model_args(p)
    p.add_argument("--data", type=Path, required=True, help="held-out pictures (never seen in training)")
    p.add_argument(
        "--n",
        type=checks.arg("n", integer=True, lo=1, hi=10000),
        default=8,
        help="canvases per size and setting (seeds 0..n-1; default 8: fewer cannot tell two models apart)",
    )
    p.add_argument("--sizes", default="1024x512,2048x1024", help="comma list of WxH")
    p.add_argument("--modes", default="feature,pixel,naive,sliding", help="comma list of sampler modes")
    p.add_argument(
        "--grids", default="", help="feature mode: comma list of fixed,alternate,random (default: the model's)"
    )
    p.add_argument(
        "--samplers", default="", help="comma list of solver:steps, e.g. ddim:25,dpmpp-2m:12 (default: the model's)"
    )
    p.add_argument("--etas", default="", help="comma list of eta values (default: the model's)")
    p.add_argument("--positions", default="", help="comma list of absolute,stretch to compare (default: the model's)")
    p.add_argument(
        "--compositions",
        default="none",
        help="comma list of none,designed,training-layouts,layout-model, each with :img2img to bring its layout in "
        "by img2img instead of structure guidance (e.g. designed,designed:img2img): canvases painted from noise, "
        "on designed layouts, on layouts of the bank (--layouts), or on layouts the layout model samples",
    )
    p.add_argument(
        "--guidance-intervals",
        default="",
        help="comma list of LO-HI timestep intervals that get guidance, e.g. 0-999,200-800 (default: the model's)",
    )
    p.add_argument("--layouts", type=Path, default=None, help="layout bank (default: WEIGHTS-layouts.png)")
    p.add_argument("--layout-model", type=Path, default=None, help="layout model (default: WEIGHTS-layout.safetensors)")
    p.add_argument(
        "--layout-strength",
        type=checks.arg("layout-strength", lo=0.05, hi=1),
        default=LAYOUT_STRENGTH,
        help="how freely a composition's layout is repainted (generate's --layout-strength)",
    )
    p.add_argument(
        "--guidance", type=checks.arg("guidance"), default=None, help="guidance scale (default: the model's)"
    )
    p.add_argument("--out", type=Path, default=Path("eval"), help="folder for eval.md and eval.json")
    p.add_argument("--save-images", action="store_true", help="also write every canvas under OUT/images")


def _samplers(text: str, default: tuple[str, int]) -> list[tuple[str, int]]:
    """'ddim:25,dpmpp-2m:10' -> [("ddim", 25), ("dpmpp-2m", 10)]; a bare name takes the default steps."""
    out = []
    for part in [s for s in text.split(",") if s]:
        name, _, steps = part.partition(":")
        out.append((name, checks.number("steps", steps, integer=True) if steps else default[1]))
    return out or [default]


def main_eval(args: argparse.Namespace) -> int:
    if not args.data.is_dir():
        raise ValueError(f"--data {args.data} is not a folder of held-out pictures")
    args.device = checks.device(args.device)
    checks.writable_folder(args.out, "--out")
    hw = [(h, w) for w, h in sizes(args.sizes)]
    etas = [checks.number("eta", e) for e in args.etas.split(",") if e]
    pipe = load_pipeline(args)
    d = pipe.cfg.sampling
    modes = [m for m in args.modes.split(",") if m]
    grids = [g for g in args.grids.split(",") if g] or [d.grid]
    samplers = _samplers(args.samplers, (d.sampler, d.steps))
    etas = etas or [d.eta]
    for m in modes:
        if m not in MODES:
            raise ValueError(f"unknown mode {m!r}; choose from {', '.join(MODES)}")
    for g in grids:
        if g not in GRIDS:
            raise ValueError(f"unknown grid rule {g!r}; choose from {', '.join(GRIDS)}")
    for name, _ in samplers:
        get_sampler(name)
    compositions = []
    for c in (c for c in args.compositions.split(",") if c):
        name, _, how = c.partition(":")
        if how and how not in HOWS:
            raise ValueError(f"unknown way to bring in a layout {how!r}; choose from {', '.join(HOWS)}")
        compositions.append(f"{composition_name(name)}:{how or 'structure'}")
    compositions = compositions or ["none:structure"]
    names = {c.partition(":")[0] for c in compositions} - {"none"}
    sources = {c: load_layouts(args, c) for c in names}
    positions = [p for p in args.positions.split(",") if p] or [None]
    intervals = tuple(parse_interval(t) for t in args.guidance_intervals.split(",") if t) or (None,)
    settings = settings_grid(modes, grids, samplers, etas, positions, tuple(compositions), intervals)
    bank_file = getattr(args, "layouts", None) or bank_beside(args.weights or default_weights())
    bank = LayoutBank.load(bank_file) if bank_file.is_file() else None
    command = "python -m patchdm_core eval " + " ".join(args.argv)

    def write(rows: list[dict]) -> None:
        write_report(args.out, rows, command=command, model=pipe.name, model_hash=pipe.model_hash)

    rows = evaluate(
        pipe,
        args.data,
        n=args.n,
        sizes=hw,
        settings=settings,
        guidance=args.guidance,
        save_dir=args.out / "images" if args.save_images else None,
        on_row=write,
        sources=sources,
        layout_strength=args.layout_strength,
        bank=bank,
    )
    write(rows)
    print(markdown(rows))
    print()
    print(composition_table(rows))
    print(f"wrote {args.out / 'eval.md'} and {args.out / 'eval.json'}")
    return 0


# -- bench ------------------------------------------------------------------------------------------


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="smaller sweep (the default)")
    p.add_argument("--full", action="store_true", help="adds 16384x8192 and full sliding-window sweeps")
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: best available)")
    p.add_argument("--config", default="demo", help="model preset to sweep (random weights)")
    p.add_argument(
        "--modes",
        default="feature,naive,pixel,sliding:8,sliding:16,sliding:32",
        help="comma list; sliding:S is the sliding mode at stride S, feature:G the feature mode with grid rule G",
    )
    p.add_argument("--max-size", default=None, help="largest canvas WxH of the sweep")
    p.add_argument("--sizes", default=None, help="explicit comma list of canvases WxH (replaces the sweep)")
    p.add_argument("--sliding-max-size", default="2048x1024", help="largest canvas for sliding modes")
    p.add_argument("--chunks", default="16,64,256", help="chunk sizes for the chunk sweep (feature mode)")
    p.add_argument("--chunk-canvas", default="1024x512", help="canvas of the chunk sweep")
    p.add_argument(
        "--repeats",
        type=checks.arg("repeats", integer=True, lo=1, hi=1000),
        default=3,
        help="interleaved rounds per canvas: each times every mode (chunk) once, after an untimed warm-up of "
        "every mode at that size; rows report the median, min and max",
    )
    p.add_argument(
        "--peak-tflops",
        type=checks.arg("peak-tflops", lo=1e-6, hi=1e6),
        default=None,
        help="the device's peak TFLOP/s for the %% of peak column; unset: the spec sheet of a known GPU, "
        "otherwise a measured matmul",
    )
    p.add_argument(
        "--compile",
        choices=("none", "compile", "cuda-graphs"),
        default="none",
        help="time the network compiled (PatchDM.compile; cuda-graphs also replays CUDA graphs); for GPUs",
    )
    p.add_argument("--gpu-report", action="store_true", help="whole 50-step guided images with paper() and demo()")
    p.add_argument("--out", type=Path, default=Path("bench/results"), help="folder for <device>.json and plots")


def main_bench(args: argparse.Namespace) -> int:
    hw = [(h, w) for w, h in sizes(args.sizes)] if args.sizes else bench.FULL_SIZES if args.full else bench.QUICK_SIZES
    specs = [m for m in args.modes.split(",") if m]
    for mode, _, option in (s.partition(":") for s in specs):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
        if mode == "sliding" and option:
            checks.number("stride", option, integer=True)
        elif mode == "feature" and option and option not in GRIDS:
            raise ValueError(f"unknown grid rule {option!r}; choose from {', '.join(GRIDS)}")
    chunks = [checks.number("chunk", c, integer=True) for c in args.chunks.split(",") if c]
    checks.writable_folder(args.out, "--out")
    pipe = PatchDM.random_init(preset(args.config), device=checks.device(args.device) if args.device else None)
    if args.max_size:
        (lw, lh), *_ = sizes(args.max_size)
        hw = [s for s in hw if s[0] * s[1] <= lw * lh]
    (sw, sh), *_ = sizes(args.sliding_max_size)
    (cw, ch), *_ = sizes(args.chunk_canvas)
    if args.peak_tflops:
        top, source = args.peak_tflops, "given"
    else:
        top, source = peak_tflops(pipe.device, network_dtype(pipe.device))
    print(f"peak {top:.3g} TFLOP/s ({source})", flush=True)
    flops = bench.flops_per_patch(pipe)  # counted on the eager network
    if args.compile != "none":
        pipe.compile(cuda_graphs=args.compile == "cuda-graphs")  # the same-size warm-ups take the compile time
    kw = dict(rounds=args.repeats, flops=flops, peak=top)
    results: dict = {
        "machine": bench.machine(),
        "device": str(pipe.device),
        "config": args.config,
        "command": "python -m " + " ".join(["patchdm_core", "bench", *args.argv]),
        "time": time.strftime("%Y-%m-%d %H:%M"),
        "rounds": args.repeats,
        "compile": args.compile,
        "peak": {"tflops": top, "source": source},
        "gflop_per_patch": {"encode": flops[0] / 1e9, "decode": flops[1] / 1e9},
        "steps": bench.sweep(pipe, specs, hw, sliding_limit=(sh, sw), full=args.full, **kw),
        "chunks": bench.chunk_sweep(pipe, chunks, (ch, cw), **kw),
    }
    if args.gpu_report:
        results["gpu_report"] = image_bench.gpu_report(
            args.device, [(512, 1024), (1024, 2048)], peak=top, compile=args.compile
        )
    suffix = "" if args.compile == "none" else f"-{args.compile}"
    written = bench.save(results, args.out / f"{bench.device_label(pipe)}-{args.config}{suffix}")
    print("wrote", ", ".join(str(p) for p in written))
    return 0


# -- bench-train ------------------------------------------------------------------------------------


def add_bench_train_arguments(p: argparse.ArgumentParser) -> None:
    num = checks.arg
    p.add_argument("--config", default="demo", help="preset (tiny, demo, demo-wide, paper) or a config JSON file")
    p.add_argument(
        "--batch-size", type=num("batch-size", integer=True, lo=1, hi=65536), default=None, help="windows per step"
    )
    p.add_argument(
        "--seconds", type=num("seconds", lo=1, hi=86400), default=60.0, help="how long to train (default 60)"
    )
    p.add_argument("--data", type=Path, default=None, help="training pictures (default: 4 synthetic ones)")
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda > mps > cpu)")
    p.add_argument("--no-bf16", action="store_true", help="train in fp32")
    add_window_arguments(p)
    add_speed_argument(p)
    p.add_argument("--out", type=Path, default=None, help="JSON report (default: print only)")


def main_bench_train(args: argparse.Namespace) -> int:
    if args.data is not None and not args.data.is_dir():
        raise ValueError(f"--data {args.data} is not a folder of pictures")
    if args.out is not None:
        checks.output_file(args.out, ".json", "--out")
    if args.device is not None:
        args.device = str(checks.device(args.device))
    args.speed.check(pick_device(args.device))
    cfg = bench_train.bench_config(load_config(args.config), args.batch_size, args.window, args.offsets)
    report = bench_train.measure(cfg, args.data, args.seconds, args.device, bf16=not args.no_bf16, speed=args.speed)
    report["command"] = "python -m patchdm_core bench-train " + _bench_train_argv(args)
    print(
        f"{cfg.name} on {report['device']}: batch {report['batch_size']}, {report['steps']} steps in "
        f"{report['seconds']:.0f} s: {report['windows_per_s']:.1f} windows/s, {report['gflop_per_window']:.2f} GFLOP "
        f"per window (forward + backward), {report['tflop_per_s']:.3f} TFLOP/s (speed levers: {report['speed']})"
    )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
        print(f"wrote {args.out}")
    return 0


def _bench_train_argv(args: argparse.Namespace) -> str:
    parts = [f"--config {args.config}", f"--seconds {args.seconds:g}"]
    if args.batch_size:
        parts.append(f"--batch-size {args.batch_size}")
    if args.device:
        parts.append(f"--device {args.device}")
    for flag, value in (("--window", args.window), ("--offsets", args.offsets)):
        if value:
            parts.append(f"{flag} {value}")
    if args.no_bf16:
        parts.append("--no-bf16")
    parts.append(f"--speed {args.speed}")
    return " ".join(parts)
