"""Where bf16 autocast pays off: CUDA, and CPUs where native bf16 is measured to beat fp32.

A CPU flag is necessary but not enough. Without `avx512_bf16`/`amx_bf16` bf16 is emulated (a demo step
at 1024x512 on a Xeon without it: 4.13 s with autocast, 2.52 s without); oneDNN's
`_is_mkldnn_bf16_supported()` says yes there too, so the flags are read from the CPU. *With* the flag
bf16 can still lose: on a 2-core Xeon with AVX-512 BF16 and no AMX, the network's 32-channel 3x3
convolution took 15 ms in bf16 against 10 ms in fp32 (channels are too few for the bf16 dot-product
instructions to make up for the conversions). Training is another matter: on that same Xeon the demo
config trained at 7.3 windows/s with bf16 and 2.8 in fp32 (oneDNN's fp32 backward convolutions are the
slow part), while a forward + backward slice of one block did not show it (bf16 0.099 s, fp32 0.080 s):
a slice cannot stand for training. So training ("train") uses bf16 wherever the CPU has it natively,
and inference ("infer") checks: where the flag is present, `cpu_bf16_pays()` times a forward slice of
the network in both precisions once per CPU model and torch version and keeps bf16 only if it is
clearly faster; the answer is cached in the user's cache folder. `PATCHDM_PRECISION=fp32|bf16|auto`
(or `--precision`) overrides it.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import time
from pathlib import Path

import torch

NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # Linux /proc/cpuinfo names
PRECISION_ENV = "PATCHDM_PRECISION"
PRECISIONS = ("auto", "fp32", "bf16")
KINDS = ("infer", "train")  # painting decides by a timed slice; training uses native bf16 (module doc)
BF16_MIN_GAIN = 1.15  # bf16 costs exactness (eps differs by ~1e-2): keep it only for a clear speed-up


def cpu_flags() -> set[str]:
    """The CPU feature flags the kernel reports (empty where there is no /proc/cpuinfo)."""
    for line in _cpuinfo().splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


@functools.cache
def cpu_has_bf16() -> bool:
    """Native bf16 on this CPU: an AVX-512 BF16 or AMX-BF16 flag (x86), or Apple silicon (arm64 macOS)."""
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        return True
    return any(flag in cpu_flags() for flag in NATIVE_BF16_FLAGS)


def cache_file() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "patchdm" / "cpu-precision.json"


def cpu_name() -> str:
    """The CPU model (timings depend on it: native bf16 or not, cores)."""
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def time_precisions(rounds: int = 3) -> dict[str, float]:
    """Seconds of a forward slice of the patch network (conv, group norm, SiLU, conv at 32 channels,
    64x64, a sampler-sized batch) in fp32 and under bf16 autocast: the best of `rounds`, interleaved."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(32, 32, 64, 64, generator=gen).contiguous(memory_format=torch.channels_last)
    conv1, conv2 = (torch.nn.Conv2d(32, 32, 3, padding=1).to(memory_format=torch.channels_last) for _ in range(2))
    norm = torch.nn.GroupNorm(8, 32)
    best = {"fp32": float("inf"), "bf16": float("inf")}
    with torch.no_grad():
        for _ in range(rounds + 1):  # the first round warms oneDNN's kernel caches up
            for name in best:
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=name == "bf16"):
                    start = time.perf_counter()
                    conv2(torch.nn.functional.silu(norm(conv1(x))))
                    best[name] = min(best[name], time.perf_counter() - start)
    return best


def cpu_bf16_pays() -> bool:
    """Native bf16 measured faster than fp32 for inference on this CPU (by BF16_MIN_GAIN); cached per CPU,
    torch and threads."""
    key = f"{cpu_name()} | torch {torch.__version__} | {torch.get_num_threads()} threads | infer"
    path = cache_file()
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):  # a damaged cache is measured again and rewritten
        known = {}
    if isinstance(known.get(key), dict) and isinstance(known[key].get("bf16"), bool):
        return known[key]["bf16"]
    times = time_precisions()
    pays = times["fp32"] > BF16_MIN_GAIN * times["bf16"]
    known[key] = {"bf16": pays, "fp32_s": times["fp32"], "bf16_s": times["bf16"]}
    try:  # a read-only home only costs the measurement next time
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known, indent=1))
        tmp.replace(path)
    except OSError:
        pass
    return pays


def requested() -> str:
    """The precision asked for by $PATCHDM_PRECISION (auto when unset); a bad value is an error."""
    value = os.environ.get(PRECISION_ENV, "auto").strip().lower() or "auto"
    if value not in PRECISIONS:
        raise ValueError(f"{PRECISION_ENV}={value!r}: choose one of {', '.join(PRECISIONS)}")
    return value


@functools.cache
def _cpu_choice(asked: str, kind: str) -> tuple[bool, str]:
    if kind not in KINDS:
        raise ValueError(f"precision kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if asked != "auto":
        return asked == "bf16", f"{asked} ({PRECISION_ENV} / --precision)"
    if not cpu_has_bf16():
        return False, "fp32 (no native bf16 on this CPU)"
    if kind == "train":
        return True, "bf16 autocast (native; training in fp32 is far slower on CPUs)"
    if cpu_bf16_pays():
        return True, "bf16 autocast (native, measured faster than fp32 for inference here)"
    return False, "fp32 (native bf16 measured slower than fp32 for inference on this CPU)"


def cpu_choice(kind: str = "infer") -> tuple[bool, str]:
    """(use bf16 autocast on the CPU for inference or training, the line that says why)."""
    return _cpu_choice(requested(), kind)


def describe(device: torch.device | str = "cpu", kind: str = "infer") -> str:
    """One start-up line: which precision the network runs in on `device`, and why."""
    device = torch.device(device)
    if device.type == "cuda":
        return "precision: bf16 autocast (CUDA)" if requested() != "fp32" else "precision: fp32 (requested)"
    if device.type != "cpu":
        return f"precision: fp32 ({device.type})"
    return f"precision: {cpu_choice(kind)[1]}"


def bf16_autocast_ok(device: torch.device, kind: str = "infer") -> bool:
    if device.type == "cuda":
        return requested() != "fp32"
    return device.type == "cpu" and cpu_choice(kind)[0]


def autocast(device: torch.device, enabled: bool = True, kind: str = "infer") -> torch.autocast:
    """bf16 autocast for `device` when it helps this kind of work (and `enabled`), a no-op otherwise."""
    on = enabled and bf16_autocast_ok(device, kind)
    return torch.autocast(device.type, dtype=torch.bfloat16 if on else torch.float32, enabled=on)


def add_argument(parser) -> None:  # noqa: ANN001 - an argparse parser
    """`--precision auto|fp32|bf16` (default: $PATCHDM_PRECISION, else auto)."""
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=None,
        help=f"network precision on the CPU/GPU: auto (bf16 where native and measured faster), fp32 or bf16; "
        f"default ${PRECISION_ENV} or auto",
    )


def apply(choice: str | None) -> None:
    """Make a `--precision` choice the process's policy (before the first network call)."""
    if choice:
        os.environ[PRECISION_ENV] = choice
