"""`bench-train`: training throughput of the real training loop (windows/s) and the arithmetic it
achieves (TFLOP/s, FLOPs counted with torch's FlopCounterMode on one forward + backward, not guessed).

It runs `train()` itself for --seconds on --data (or on a few synthetic pictures: the cost of a step
does not depend on what the pictures show), reads the loop's own log and writes a JSON report:

    python -m patchdm_core bench-train --config demo --batch-size 32 --seconds 60 --out bench/results/cpu-train.json
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..model.config import PatchDMConfig
from ..model.patchdm import PatchDMModel
from ..model.schedule import Schedule
from ..runtime import precision
from ..runtime.devices import pick_device
from .data import ImageFolderWindows
from .loop import train
from .objective import Objective, draw_inputs
from .speed import EAGER, Speed

LOG_EVERY = 5  # steps per timed window of the loop's log
WARMUP_STEPS = 3  # steps before the timed seconds: compiling, autotuning, CUDA graph recording (its 2nd call)


def synthetic_pictures(folder: Path, size: tuple[int, int], n: int = 4, seed: int = 0) -> Path:
    """n random pictures of size (H, W) in folder (smooth colour plus noise; content does not matter)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    h, w = size
    for i in range(n):
        base = rng.integers(0, 256, (max(1, h // 64), max(1, w // 64), 3), dtype=np.uint8)
        big = np.asarray(Image.fromarray(base).resize((w, h), Image.Resampling.BICUBIC), dtype=np.int16)
        noisy = np.clip(big + rng.integers(-20, 21, big.shape), 0, 255).astype(np.uint8)
        Image.fromarray(noisy).save(folder / f"synthetic-{i}.png")
    return folder


def flops_per_window(
    cfg: PatchDMConfig,
    data: Path,
    device: torch.device,
    windows: int = 2,
    backward: bool = True,
    cache_dir: Path | None = None,
) -> float:
    """FLOPs of one training step (forward + backward of the loss) per 2x2 window, counted on `windows`
    (the optimizer and EMA updates are elementwise and left out)."""
    from torch.utils.flop_counter import FlopCounterMode

    model = PatchDMModel(cfg).to(device)
    tc = cfg.train  # the training run's own dataset settings, so that it reuses this decoded cache
    dataset = ImageFolderWindows(
        data, tc.image_size, cfg.patch_size, cfg.encoder.view_size, crops=tc.crops, hflip=tc.hflip, cache_dir=cache_dir
    )
    dataset.to(device)
    schedule = Schedule.linear(cfg.diffusion.timesteps, cfg.diffusion.beta_start, cfg.diffusion.beta_end)
    gen = torch.Generator(device=device).manual_seed(0)
    batch = dataset.sample(windows, gen, tc.window, tc.offsets)
    t, keep_z, keep_pos = draw_inputs(cfg, windows, gen, device)
    noise = torch.randn(batch.x0.shape, generator=gen, device=device)
    with FlopCounterMode(display=False) as counter:
        with torch.set_grad_enabled(backward):
            loss, _, _ = Objective(model, schedule)(batch, t, noise, keep_z, keep_pos)
        if backward:
            loss.backward()
    return float(counter.get_total_flops()) / windows


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return precision.cpu_name()


def bench_config(
    cfg: PatchDMConfig, batch_size: int | None = None, window: int | None = None, offsets: str | None = None
):
    """The config a benchmark trains: no samples or checkpoints, a log line every LOG_EVERY steps."""
    overrides = {"sample_every": 0, "save_every": 0, "log_every": LOG_EVERY}
    for key, value in (("batch_size", batch_size), ("window", window), ("offsets", offsets)):
        if value:
            overrides[key] = value
    return cfg.replace(train=dataclasses.replace(cfg.train, **overrides))


def measure(
    cfg: PatchDMConfig,
    data: Path | None,
    seconds: float,
    device: str | None,
    bf16: bool = True,
    speed: Speed = EAGER,
) -> dict:
    """Train `cfg` (see bench_config) with the `speed` levers for `seconds` on `data` (None: synthetic pictures)
    and report windows/s, the counted FLOPs per window and TFLOP/s (no command line in it: the caller adds
    its own). The seconds count after WARMUP_STEPS steps: compiling and cuDNN autotuning happen there."""
    dev = pick_device(device)
    with tempfile.TemporaryDirectory(prefix="patchdm-bench-train-") as tmp:
        data = data or synthetic_pictures(Path(tmp) / "data", cfg.train.image_size)
        run_dir = Path(tmp) / "run"
        per_window = flops_per_window(cfg, data, dev, cache_dir=run_dir / "cache")
        start = time.monotonic()
        result = train(
            cfg,
            data,
            run_dir,
            steps=10**9,
            minutes=seconds / 60,
            device=device,
            bf16=bf16,
            speed=speed,
            warmup_steps=WARMUP_STEPS,
        )
        wall = time.monotonic() - start
        log_file = run_dir / "log.jsonl"
        log = [json.loads(line) for line in log_file.read_text().splitlines()] if log_file.exists() else []
    if result.step == 0:
        raise ValueError(f"{seconds:g} s was too short for one training step: raise --seconds")
    # the first window holds the warm-up (allocator, autotuning, caches); a run too short for two windows
    # reports its only one, and one too short for a log window the whole run's rate (warm-up included)
    rates = [row["it_s"] for row in log[1:]] or [row["it_s"] for row in log] or [result.step / wall]
    windows_s = statistics.median(rates) * cfg.train.batch_size
    return {
        "config": cfg.name,
        "device": device_name(dev),
        "torch": torch.__version__,
        "bf16": bf16 and precision.bf16_autocast_ok(dev, "train"),
        "batch_size": cfg.train.batch_size,
        "window": cfg.train.window,
        "offsets": cfg.train.offsets,
        "speed": str(speed),
        "steps": result.step,
        "seconds": round(wall, 1),
        "windows_per_s": _sig(windows_s),
        "gflop_per_window": _sig(per_window / 1e9),
        "tflop_per_s": _sig(windows_s * per_window / 1e12),
    }


def _sig(x: float) -> float:
    """Four significant digits (a tiny config's TFLOP/s is 0.0016, a GPU's 50)."""
    return float(f"{x:.4g}")
