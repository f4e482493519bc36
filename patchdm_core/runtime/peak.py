"""The arithmetic peak a benchmark row is a percentage of: TFLOP/s alone does not say whether a step
is slow because the network is big or because the machine idles.

On a known data-centre or desk GPU the published dense bf16 tensor-core rate is the honest ceiling
(sparsity doubles the headline number; no dense network reaches it). Anywhere else, the CPU included,
the ceiling is measured: the best rate of a large square matmul in the dtype the network runs in,
which is what the convolutions could reach if they were as regular. Nothing is cached: the
measurement takes under half a second and a cache would outlive a change of threads or clocks.
"""

from __future__ import annotations

import math
import re
import time

import torch

from . import precision

# (pattern on torch.cuda.get_device_name, dense bf16 TFLOP/s, which card); the first match wins
SPEC_BF16 = (
    (r"H200 NVL", 835.0, "H200 NVL"),
    (r"H200", 989.0, "H200 SXM"),
    (r"H100 NVL", 835.0, "H100 NVL"),
    (r"H100 PCIe", 756.0, "H100 PCIe"),
    (r"H100", 989.0, "H100 SXM"),
    (r"A100", 312.0, "A100"),
    (r"L40S", 362.0, "L40S"),
    (r"\bL4\b", 121.0, "L4"),
    (r"RTX 4090", 165.0, "RTX 4090"),
)
MATMUL_N_CPU = 1536  # one fp32 matmul takes ~90 ms on 2 EPYC cores
MATMUL_N_ACCELERATOR = 8192  # a GPU needs a large one to reach its tensor-core rate
TRIAL_S = 0.05  # each timed trial runs back-to-back matmuls for at least this long


def network_dtype(device: torch.device) -> torch.dtype:
    """The dtype the denoiser computes in on `device` (bf16 where precision's autocast is on)."""
    return torch.bfloat16 if precision.bf16_autocast_ok(device) else torch.float32


def spec_sheet(name: str) -> tuple[float, str] | None:
    """The published dense bf16 peak of a GPU by its name, or None for a card not in SPEC_BF16."""
    for pattern, tflops, card in SPEC_BF16:
        if re.search(pattern, name, re.IGNORECASE):
            return tflops, f"spec sheet, dense bf16, {card}"
    return None


def peak_tflops(device: torch.device | str, dtype: torch.dtype = torch.float32) -> tuple[float, str]:
    """(peak TFLOP/s of `device` in `dtype`, where the number came from)."""
    device = torch.device(device)
    if device.type == "cuda" and dtype == torch.bfloat16:
        known = spec_sheet(torch.cuda.get_device_name(device))
        if known:
            return known
    return measured_matmul(device, dtype)


def measured_matmul(
    device: torch.device, dtype: torch.dtype, n: int | None = None, trials: int = 3
) -> tuple[float, str]:
    """The best of `trials` timed runs of n x n matmuls (after one untimed): 2 n^3 FLOPs each."""
    n = n or (MATMUL_N_CPU if device.type == "cpu" else MATMUL_N_ACCELERATOR)
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=gen).to(device, dtype) for _ in range(2))
    a @ b
    one = _seconds(a, b, 1)
    reps = max(1, min(1000, math.ceil(TRIAL_S / max(one, 1e-6))))
    best = min(_seconds(a, b, reps) for _ in range(trials)) / reps
    name = str(dtype).removeprefix("torch.").replace("float32", "fp32").replace("bfloat16", "bf16")
    return 2 * n**3 / best / 1e12, f"measured matmul, {name}, N={n}"


def _seconds(a: torch.Tensor, b: torch.Tensor, reps: int) -> float:
    _sync(a.device)
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    _sync(a.device)
    return time.perf_counter() - start


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
