"""`bench`: time, network evaluations, counted TFLOP/s (and the share of the machine's peak) and peak
memory of one denoising step against canvas size, for every sampler mode on the same model; plus the
GPU report (whole 50-step guided images).

A first call at a size pays for kernels, autotuning and allocations at that shape (0.59 s against
0.073 s for the same 1024x512 step on a GPU), and a quiet CPU still drifts by 10-15% between runs; so
every mode is warmed up at the row's own size and the modes are timed in interleaved rounds (see
interleaved). Ratios between modes are taken from those medians.

Results go to bench/results/<device>.json (and PNG plots, see bench_plot.py). Random weights are
fine for timing: the network's cost does not depend on its values.
"""

from __future__ import annotations

import json
import platform
import statistics
import threading
import time
from pathlib import Path

import torch

from ..pipeline import PatchDM
from ..runtime.peak import network_dtype, peak_tflops
from ..runtime.precision import cpu_name
from ..sampling.denoiser import CanvasDenoiser
from ..sampling.guidance import cfg
from ..sampling.solvers import EpsFn
from .bench_plot import evals, plots, table

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


def parse_spec(spec: str) -> dict:
    """A mode spec ("feature", "feature:random", "sliding:16", "naive") -> its mode, grid rule and stride."""
    mode, _, option = spec.partition(":")
    return {
        "mode": mode,
        "stride": int(option) if mode == "sliding" and option else None,
        "grid": option if mode == "feature" and option else "fixed",
    }


def interleaved(
    pipe: PatchDM,
    cases: list[dict],
    height: int,
    width: int,
    *,
    rounds: int = 3,
    guidance: float = 1.0,
    flops: tuple[float, float] | None = None,
    peak: float | None = None,
) -> list[dict]:
    """One row per case (dicts of mode, chunk, stride, grid): a denoiser evaluation of the whole canvas
    (guidance 1 = one unguided step), its seconds, network evaluations, counted TFLOP/s and peak memory.

    Every case is first called once untimed at this very size: on a GPU kernels, autotuning and the
    allocator's blocks depend on the shape, and a warm-up on another size leaves them to the first timed
    call. Then each of `rounds` rounds times every case once, the order rotated per round, so that a drift
    of the machine (clocks, heat, other load) spreads over all cases instead of favouring one; a row
    reports the median and the extremes. With grid rule "random" the timed calls are 1, 2, ... of seed 0,
    whose lattice is moved (one more row and column of cells where both offsets are non-zero)."""
    flops = flops or flops_per_patch(pipe)
    peak = peak or peak_tflops(pipe.device, network_dtype(pipe.device))[0]
    x = torch.randn(1, 3, height, width, device=pipe.device)
    t = torch.tensor([500], device=pipe.device)
    cond = pipe.cond(None)
    dens = [
        pipe.denoiser(c["mode"], chunk=c.get("chunk"), stride=c.get("stride"), grid=c.get("grid") or "fixed")
        for c in cases
    ]
    fns = [cfg(den, cond, guidance) for den in dens]
    for fn in fns:
        fn(x, t)
    timed: list[list[dict]] = [[] for _ in cases]
    for r in range(rounds):
        for i in rotated(len(cases), r):
            timed[i].append(_timed_call(pipe, dens[i], fns[i], x, t))
    return [
        _row(case, den, calls, height, width, guidance, flops, peak) for case, den, calls in zip(cases, dens, timed)
    ]


def rotated(n: int, r: int) -> list[int]:
    """The order of n cases in round r: 0..n-1 started at r mod n, so the first place goes round."""
    return [(r + i) % n for i in range(n)]


def _timed_call(pipe: PatchDM, den: CanvasDenoiser, fn: EpsFn, x: torch.Tensor, t: torch.Tensor) -> dict:
    before = dict(den.evals)
    if pipe.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(pipe.device)
    _sync(pipe.device)
    with PeakRSS() as mem:
        start = time.perf_counter()
        fn(x, t)
        _sync(pipe.device)
        seconds = time.perf_counter() - start
    call = {
        "seconds": seconds,
        "encode": den.evals["encode"] - before["encode"],
        "decode": den.evals["decode"] - before["decode"],
        "rss": mem.peak,
    }
    if pipe.device.type == "cuda":
        call["gpu"] = torch.cuda.max_memory_allocated(pipe.device)
    return call


def _row(
    case: dict,
    den: CanvasDenoiser,
    calls: list[dict],
    height: int,
    width: int,
    guidance: float,
    flops: tuple[float, float],
    peak: float,
) -> dict:
    seconds = [c["seconds"] for c in calls]
    row = {
        "mode": case["mode"],
        "grid": den.grid if case["mode"] == "feature" else None,
        "height": height,
        "width": width,
        "chunk": den.chunk,
        "stride": case.get("stride"),
        "guidance": guidance,
        "rounds": len(calls),
        "seconds": statistics.median(seconds),
        "seconds_min": min(seconds),
        "seconds_max": max(seconds),
        "round_seconds": seconds,
        # a mean: a moved lattice costs one more row (column) of cells on calls whose offset moves that axis
        "encode_evals": statistics.mean(c["encode"] for c in calls),
        "decode_evals": statistics.mean(c["decode"] for c in calls),
        "peak_rss_bytes": max(c["rss"] for c in calls),
        "canvas_fp32_bytes": 3 * height * width * 4,
    }
    if "gpu" in calls[0]:
        row["peak_gpu_bytes"] = max(c["gpu"] for c in calls)
    return counted(row, flops, peak)


def counted(row: dict, flops: tuple[float, float], peak: float) -> dict:
    """Adds the row's network TFLOP per step (evaluations x FLOPs per patch), TFLOP/s and percent of `peak`."""
    tflop = (row["encode_evals"] * flops[0] + row["decode_evals"] * flops[1]) / 1e12
    row.update(tflop=tflop, tflop_per_s=tflop / row["seconds"], peak_tflops=peak)
    row["percent_of_peak"] = 100 * row["tflop_per_s"] / peak
    return row


def measure_step(
    pipe: PatchDM,
    mode: str,
    height: int,
    width: int,
    *,
    chunk: int | None = None,
    stride: int | None = None,
    guidance: float = 1.0,
    rounds: int = 3,
    grid: str = "fixed",
    peak: float | None = None,
) -> dict:
    """interleaved() with one case: a same-size warm-up, then `rounds` timed calls."""
    case = {"mode": mode, "chunk": chunk, "stride": stride, "grid": grid}
    return interleaved(pipe, [case], height, width, rounds=rounds, guidance=guidance, peak=peak)[0]


def machine() -> dict:
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": cpu_name(),
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
    rounds: int = 3,
    flops: tuple[float, float] | None = None,
    peak: float | None = None,
) -> list[dict]:
    """Interleaved rows of every mode spec ("feature", "feature:random", "sliding:16", ...) per canvas (H, W);
    sliding modes only up to `sliding_limit` pixels unless `full`."""
    flops = flops or flops_per_patch(pipe)
    peak = peak or peak_tflops(pipe.device, network_dtype(pipe.device))[0]
    rows = []
    for h, w in sizes:
        big = h * w > sliding_limit[0] * sliding_limit[1] and not full
        named = [(s, parse_spec(s)) for s in specs if not (big and s.partition(":")[0] == "sliding")]
        got = interleaved(pipe, [c for _, c in named], h, w, rounds=rounds, flops=flops, peak=peak)
        for (spec, _), row in zip(named, got):
            print(f"{spec:>14} {w:>5}x{h:<5} {_line(row)}", flush=True)
        rows += got
    return rows


def chunk_sweep(
    pipe: PatchDM,
    chunks: list[int],
    size: tuple[int, int],
    *,
    rounds: int = 3,
    flops: tuple[float, float] | None = None,
    peak: float | None = None,
) -> list[dict]:
    """Feature-mode step on one canvas (H, W) for each chunk size (patches per network call), interleaved."""
    cases = [{"mode": "feature", "chunk": c, "grid": "fixed"} for c in chunks]
    rows = interleaved(pipe, cases, *size, rounds=rounds, flops=flops, peak=peak)
    for chunk, row in zip(chunks, rows):
        print(f"chunk {chunk:>8} {size[1]:>5}x{size[0]:<5} {_line(row)}", flush=True)
    return rows


def _line(row: dict) -> str:
    return (
        f"{row['seconds']:8.3f} s/step ({row['seconds_min']:.3f}-{row['seconds_max']:.3f})  "
        f"{evals(row):>7} evals  {row['tflop_per_s']:.3g} TFLOP/s "
        f"({row['percent_of_peak']:.1f}% of peak)  peak RSS {row['peak_rss_bytes'] / 2**30:.2f} GiB"
    )


def save(results: dict, stem: Path) -> list[Path]:
    """stem.json, stem.md (the table) and the time / memory plots; returns the files written."""

    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1))
    stem.with_suffix(".md").write_text(table(results) + "\n")
    written = plots(results, stem) if results["steps"] else []
    print(table(results))
    return [stem.with_suffix(".json"), stem.with_suffix(".md"), *written]
