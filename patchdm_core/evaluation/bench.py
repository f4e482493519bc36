"""`bench`: time, network evaluations and peak memory of one denoising step against canvas size,
for every sampler mode on the same model; plus the GPU report (whole 50-step guided images).

Results go to bench/results/<device>.json (and PNG plots, see bench_plot.py). Random weights are
fine for timing: the network's cost does not depend on its values.
"""

from __future__ import annotations

import json
import platform
import threading
import time
from pathlib import Path

import torch

from ..model.presets import preset
from ..pipeline import PatchDM
from ..runtime.sizes import round_up
from ..sampling.guidance import cfg
from ..sampling.solvers import run
from .bench_plot import plots, table

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


def device_label(pipe: PatchDM) -> str:
    if pipe.device.type == "cuda":
        return "gpu-" + "-".join(torch.cuda.get_device_name(pipe.device).lower().replace("nvidia", "").split())
    return pipe.device.type


def sweep(
    pipe: PatchDM,
    specs: list[str],
    sizes: list[tuple[int, int]],
    *,
    sliding_limit: tuple[int, int],
    full: bool = False,
    repeats: int = 1,
) -> list[dict]:
    """One measure_step row per mode spec ("feature", "feature:random", "sliding:16", ...) and canvas (H, W);
    sliding modes only up to `sliding_limit` pixels unless `full`."""
    rows = []
    for spec in specs:
        mode, _, option = spec.partition(":")
        stride = int(option) if mode == "sliding" and option else None
        grid = option if mode == "feature" and option else "fixed"
        for h, w in sizes:
            if mode == "sliding" and h * w > sliding_limit[0] * sliding_limit[1] and not full:
                continue
            row = measure_step(pipe, mode, h, w, stride=stride, grid=grid, repeats=repeats)
            print(
                f"{spec:>10} {w:>5}x{h:<5} {row['seconds']:8.2f} s/step  "
                f"{row['encode_evals'] + row['decode_evals']:>7} evals  "
                f"peak RSS {row['peak_rss_bytes'] / 2**30:.2f} GiB",
                flush=True,
            )
            rows.append(row)
    return rows


def chunk_sweep(pipe: PatchDM, chunks: list[int], size: tuple[int, int]) -> list[dict]:
    """Feature-mode step on one canvas (H, W) for each chunk size (patches per network call)."""
    rows = []
    for chunk in chunks:
        row = measure_step(pipe, "feature", *size, chunk=chunk)
        print(
            f"chunk {chunk:>5} {size[1]}x{size[0]} {row['seconds']:.2f} s/step "
            f"peak RSS {row['peak_rss_bytes'] / 2**30:.2f} GiB"
        )
        rows.append(row)
    return rows


def save(results: dict, stem: Path) -> list[Path]:
    """stem.json, stem.md (the table) and the time / memory plots; returns the files written."""

    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1))
    stem.with_suffix(".md").write_text(table(results) + "\n")
    written = plots(results, stem) if results["steps"] else []
    print(table(results))
    return [stem.with_suffix(".json"), stem.with_suffix(".md"), *written]
