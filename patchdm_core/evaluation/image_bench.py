"""`bench --gpu-report`: whole pictures (the model's sampler, 50 guided steps) timed per model and canvas, in
seconds, patches/s, counted TFLOP/s and percent of the device's peak (the step sweep is in bench.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from ..model.presets import preset
from ..pipeline import PatchDM
from ..runtime.peak import network_dtype, peak_tflops
from ..sampling.denoiser import CanvasDenoiser
from ..sampling.solvers import run
from .bench import _sync, flops_per_patch


def gpu_report(
    device: str | None,
    sizes: list[tuple[int, int]],
    steps: int = 50,
    guidance: float = 1.5,
    *,
    peak: float | None = None,
    models: tuple[str, ...] = ("paper", "demo"),
    compile: str = "none",
) -> dict:
    """Whole images (the model's sampler, with guidance) per model: seconds, patches/s, TFLOP/s, percent
    of `peak`, peak memory, with the network compiled if `compile` says so (none, compile, cuda-graphs).
    A 2-step image at the same size warms up first; the evaluations are counted
    on the denoisers the image really used (the model's grid rule may move the lattice)."""
    out = {}
    for name in models:
        pipe = PatchDM.random_init(preset(name), device=device)
        peak = peak or peak_tflops(pipe.device, network_dtype(pipe.device))[0]
        enc_f, dec_f = flops_per_patch(pipe)  # counted on the eager network
        if compile != "none":
            pipe.compile(cuda_graphs=compile == "cuda-graphs")  # the same-size warm-up takes the compile time
        rows = []
        for h, w in sizes:
            run(pipe.generate(h, w, seed=0, steps=2, guidance=guidance))
            if pipe.device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(pipe.device)
            with _denoisers_made(pipe) as made:
                _sync(pipe.device)
                start = time.perf_counter()
                run(pipe.generate(h, w, seed=0, steps=steps, guidance=guidance))
                _sync(pipe.device)
                sec = time.perf_counter() - start
            enc_n, dec_n = (sum(d.evals[k] for d in made) for k in ("encode", "decode"))
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
                "peak_tflops": peak,
                "percent_of_peak": 100 * flops / sec / 1e12 / peak,
            }
            if pipe.device.type == "cuda":
                row["peak_gpu_bytes"] = torch.cuda.max_memory_allocated(pipe.device)
            print(
                f"  {name} {w}x{h}: {sec:.2f} s/image, {row['patches_per_second']:.0f} patches/s, "
                f"{row['tflops']:.3g} TFLOP/s ({row['percent_of_peak']:.1f}% of peak)",
                flush=True,
            )
            rows.append(row)
        out[name] = {"encode_gflop_per_patch": enc_f / 1e9, "decode_gflop_per_patch": dec_f / 1e9, "images": rows}
    return out


@contextmanager
def _denoisers_made(pipe: PatchDM) -> Iterator[list[CanvasDenoiser]]:
    """The denoisers the painter makes while the block runs (their `evals` are what the images cost)."""
    painter, made = pipe.painter, []
    make = painter.denoiser
    painter.denoiser = lambda *a, **kw: made.append(make(*a, **kw)) or made[-1]
    try:
        yield made
    finally:
        del painter.denoiser
