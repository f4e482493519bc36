"""`bench`: time, network evaluations and peak memory of one denoising step against canvas size,
for every sampler mode on the same model; plus the GPU report (whole 50-step guided images).

Results go to bench/results/<device>.json (and PNG plots, see bench_plot.py). Random weights are
fine for timing: the network's cost does not depend on its values.
"""

from __future__ import annotations

import argparse
import json
import platform
import threading
import time
from pathlib import Path

import torch

from ..model.config import preset
from ..pipeline import PatchDM
from ..runtime import checks
from ..runtime.sizes import round_up
from ..sampling.solvers import run

QUICK_SIZES = [(256, 512), (512, 1024), (1024, 2048), (2048, 4096), (4096, 8192)]
FULL_SIZES = QUICK_SIZES + [(8192, 16384)]


class PeakRSS:
    """Peak resident memory of this process while the block runs (sampled every 2 ms)."""

    def __enter__(self) -> PeakRSS:
        self.peak = self.base = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def flops_per_patch(pipe: PatchDM) -> tuple[float, float]:
    """FLOPs of the encoder half and of the decoder half for one patch (FlopCounterMode, fwd only)."""
    from torch.utils.flop_counter import FlopCounterMode

    unet, p = pipe.model.unet, pipe.p
    x = torch.zeros(1, 3, p, p, device=pipe.device)
    one = torch.ones(1, dtype=torch.bool, device=pipe.device)
    emb = unet.embed(
        torch.zeros(1, device=pipe.device),
        torch.zeros(1, 2, device=pipe.device),
        one,
        torch.zeros(1, unet.cfg.z_dim, device=pipe.device),
        one,
    )
    with torch.no_grad():
        with FlopCounterMode(display=False) as enc:
            feats = unet.encode(x, emb)
        with FlopCounterMode(display=False) as dec:
            unet.decode(feats, emb)
    return float(enc.get_total_flops()), float(dec.get_total_flops())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_step(
    pipe: PatchDM,
    mode: str,
    height: int,
    width: int,
    *,
    chunk: int | None = None,
    stride: int | None = None,
    guidance: float = 1.0,
    repeats: int = 1,
    grid: str = "fixed",
) -> dict:
    """One denoiser evaluation of a whole canvas (guidance 1 = one unguided step), timed after a warm-up.

    `grid` is the feature mode's position rule (default: the paper's fixed grid); "random" draws the
    offsets of calls 1, 2, ... of seed 0 (all non-zero: the canvas is padded by one row and column)."""
    den = pipe.denoiser(mode, chunk=chunk, stride=stride, grid=grid)
    x = torch.randn(1, 3, height, width, device=pipe.device)
    t = torch.tensor([500], device=pipe.device)
    cond = pipe.cond(None)
    from ..sampling.guidance import cfg

    eps_fn = cfg(den, cond, guidance)
    if pipe.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(pipe.device)
    small = torch.randn(1, 3, pipe.p * 2, pipe.p * 2, device=pipe.device)
    eps_fn(small, t)  # warm-up: kernels, allocator, oneDNN primitives (and call 0 of the grid rule)
    den.evals.update(encode=0, decode=0)
    _sync(pipe.device)
    with PeakRSS() as mem:
        start = time.perf_counter()
        for _ in range(repeats):
            eps_fn(x, t)
        _sync(pipe.device)
        seconds = (time.perf_counter() - start) / repeats
    row = {
        "mode": mode,
        "grid": grid if mode == "feature" else None,
        "height": height,
        "width": width,
        "chunk": den.chunk,
        "stride": stride,
        "guidance": guidance,
        "seconds": seconds,
        "encode_evals": den.evals["encode"] // repeats,
        "decode_evals": den.evals["decode"] // repeats,
        "peak_rss_bytes": mem.peak,
        "canvas_fp32_bytes": 3 * height * width * 4,
    }
    if pipe.device.type == "cuda":
        row["peak_gpu_bytes"] = torch.cuda.max_memory_allocated(pipe.device)
    return row


def gpu_report(device: str | None, sizes: list[tuple[int, int]], steps: int = 50, guidance: float = 1.5) -> dict:
    """Whole images (DDIM steps with guidance) per model: seconds, patches/s, TFLOP/s, peak memory."""
    out = {}
    for name in ("paper", "demo"):
        pipe = PatchDM.random_init(preset(name), device=device)
        enc_f, dec_f = flops_per_patch(pipe)
        rows = []
        for h, w in sizes:
            run(pipe.generate(pipe.p * 2, pipe.p * 2, seed=0, steps=2, guidance=guidance))  # warm-up
            if pipe.device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(pipe.device)
            den_evals = _evals(pipe, h, w, guidance)
            _sync(pipe.device)
            start = time.perf_counter()
            run(pipe.generate(h, w, seed=0, steps=steps, guidance=guidance))
            _sync(pipe.device)
            sec = time.perf_counter() - start
            enc_n, dec_n = den_evals[0] * steps, den_evals[1] * steps
            flops = enc_n * enc_f + dec_n * dec_f
            row = {
                "height": h,
                "width": w,
                "steps": steps,
                "guidance": guidance,
                "seconds": sec,
                "patches_per_second": (enc_n + dec_n) / sec,
                "tflops": flops / sec / 1e12,
                "tflop_per_image": flops / 1e12,
            }
            if pipe.device.type == "cuda":
                row["peak_gpu_bytes"] = torch.cuda.max_memory_allocated(pipe.device)
            print(
                f"  {name} {w}x{h}: {sec:.2f} s/image, {row['patches_per_second']:.0f} patches/s, "
                f"{row['tflops']:.1f} TFLOP/s",
                flush=True,
            )
            rows.append(row)
        out[name] = {"encode_gflop_per_patch": enc_f / 1e9, "decode_gflop_per_patch": dec_f / 1e9, "images": rows}
    return out


def _evals(pipe: PatchDM, h: int, w: int, guidance: float) -> tuple[int, int]:
    rows, cols = round_up(h, pipe.p) // pipe.p, round_up(w, pipe.p) // pipe.p
    b = 1 if guidance == 1 else 2
    return b * (rows + 1) * (cols + 1), b * rows * cols


def machine() -> dict:
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


# -- command line ------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
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
        default=1,
        help="denoiser calls timed per row (their mean is reported)",
    )
    p.add_argument("--gpu-report", action="store_true", help="whole 50-step guided images with paper() and demo()")
    p.add_argument("--out", type=Path, default=Path("bench/results"), help="folder for <device>.json and plots")


def _size(text: str) -> tuple[int, int]:
    """'WxH' -> (H, W), with the CLI's size checks."""
    from .evaluate import _size as size

    return size(text)[::-1]


def device_label(pipe: PatchDM) -> str:
    if pipe.device.type == "cuda":
        return "gpu-" + "-".join(torch.cuda.get_device_name(pipe.device).lower().replace("nvidia", "").split())
    return pipe.device.type


def main(args: argparse.Namespace) -> int:
    from ..sampling.denoiser import GRIDS, MODES

    sizes = [_size(s) for s in args.sizes.split(",")] if args.sizes else FULL_SIZES if args.full else QUICK_SIZES
    specs = [m.partition(":") for m in args.modes.split(",") if m]
    for mode, _, option in specs:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
        if mode == "sliding" and option:
            checks.number("stride", option, integer=True)
        elif mode == "feature" and option and option not in GRIDS:
            raise ValueError(f"unknown grid rule {option!r}; choose from {', '.join(GRIDS)}")
    chunks = [checks.number("chunk", c, integer=True) for c in args.chunks.split(",") if c]
    pipe = PatchDM.random_init(preset(args.config), device=checks.device(args.device) if args.device else None)
    if args.max_size:
        limit = _size(args.max_size)
        sizes = [s for s in sizes if s[0] * s[1] <= limit[0] * limit[1]]
    sliding_limit = _size(args.sliding_max_size)
    results: dict = {
        "machine": machine(),
        "config": args.config,
        "command": "python -m " + " ".join(["patchdm_core", "bench", *args.argv]),
        "time": time.strftime("%Y-%m-%d %H:%M"),
        "steps": [],
        "chunks": [],
    }
    for spec in [m for m in args.modes.split(",") if m]:
        mode, _, option = spec.partition(":")
        stride = int(option) if mode == "sliding" and option else None
        grid = option if mode == "feature" and option else "fixed"
        for h, w in sizes:
            if mode == "sliding" and h * w > sliding_limit[0] * sliding_limit[1] and not args.full:
                continue
            row = measure_step(pipe, mode, h, w, stride=stride, grid=grid, repeats=args.repeats)
            print(
                f"{spec:>10} {w:>5}x{h:<5} {row['seconds']:8.2f} s/step  "
                f"{row['encode_evals'] + row['decode_evals']:>7} evals  "
                f"peak RSS {row['peak_rss_bytes'] / 2**30:.2f} GiB",
                flush=True,
            )
            results["steps"].append(row)
    for chunk in chunks:
        ch, cw = _size(args.chunk_canvas)
        row = measure_step(pipe, "feature", ch, cw, chunk=chunk)
        print(
            f"chunk {chunk:>5} {cw}x{ch} {row['seconds']:.2f} s/step peak RSS {row['peak_rss_bytes'] / 2**30:.2f} GiB"
        )
        results["chunks"].append(row)
    if args.gpu_report:
        results["gpu_report"] = gpu_report(args.device, [(512, 1024), (1024, 2048)])
    args.out.mkdir(parents=True, exist_ok=True)
    from .bench_plot import plots, table

    stem = args.out / f"{device_label(pipe)}-{args.config}"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1))
    stem.with_suffix(".md").write_text(table(results) + "\n")
    written = plots(results, stem) if results["steps"] else []
    print(table(results))
    print("wrote", ", ".join(str(p) for p in [stem.with_suffix(".json"), stem.with_suffix(".md"), *written]))
    return 0
