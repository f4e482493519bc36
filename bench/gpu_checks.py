"""GPU checks that need no pytest (the lent GPU machine has only torch, numpy, pillow, safetensors):
`python bench/gpu_checks.py`. tests/test_gpu.py runs the same functions under pytest (marker `gpu`)."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from patchdm_core import PatchDM, demo, run  # noqa: E402


def same_seed_same_image_on_cpu_and_gpu() -> None:
    cpu, gpu = PatchDM.random_init(demo(), device="cpu"), PatchDM.random_init(demo(), device="cuda")
    assert torch.equal(cpu.initial_noise(3, 128, 256), gpu.initial_noise(3, 128, 256).cpu())
    a = run(cpu.generate(128, 256, seed=3, steps=4))
    b = run(gpu.generate(128, 256, seed=3, steps=4)).cpu()
    diff = (a - b).abs().mean().item()
    print(f"cpu vs gpu mean |difference| {diff:.4f}")
    assert diff < 0.02  # bf16 kernels differ in the last bits, not in the picture


def offloaded_canvas_gives_the_same_image() -> None:
    pipe = PatchDM.random_init(demo(), device="cuda")
    a = run(pipe.generate(256, 512, seed=1, steps=3, offload=False)).cpu()
    b = run(pipe.generate(256, 512, seed=1, steps=3, offload=True)).cpu()
    torch.testing.assert_close(a, b, atol=1e-3, rtol=1e-3)


def peak_gpu_memory_is_flat_in_canvas_size() -> None:
    pipe = PatchDM.random_init(demo(), device="cuda")
    peaks = {}
    for h, w in [(512, 1024), (4096, 8192)]:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        run(pipe.generate(h, w, seed=0, steps=1, chunk=512, offload=True))
        peaks[w] = torch.cuda.max_memory_allocated()
    print(f"peak GPU memory: 1024x512 {peaks[1024] / 2**20:.0f} MiB, 8192x4096 {peaks[8192] / 2**20:.0f} MiB")
    assert peaks[8192] <= 1.5 * peaks[1024]


def training_draws_on_the_gpu_and_resumes_exactly() -> None:
    """The training loop's generator lives on the GPU (no host draws), and --resume continues its stream."""
    import tempfile

    from patchdm_core import tiny
    from patchdm_core.training.bench import synthetic_pictures
    from patchdm_core.training.loop import train

    cfg = tiny()
    with tempfile.TemporaryDirectory() as tmp:
        data = synthetic_pictures(Path(tmp) / "data", cfg.train.image_size, n=2)
        straight = train(cfg, data, Path(tmp) / "a", steps=6, device="cuda", seed=1)
        train(cfg, data, Path(tmp) / "b", steps=3, device="cuda", seed=1)
        resumed = train(cfg, data, Path(tmp) / "b", steps=6, device="cuda", seed=1, resume=True)
        for (name, a), b in zip(straight.ema.state_dict().items(), resumed.ema.state_dict().values()):
            torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-3, msg=lambda m, n=name: f"{n}: {m}")


CHECKS = [
    training_draws_on_the_gpu_and_resumes_exactly,
    same_seed_same_image_on_cpu_and_gpu,
    offloaded_canvas_gives_the_same_image,
    peak_gpu_memory_is_flat_in_canvas_size,
]

if __name__ == "__main__":
    failed = 0
    for check in CHECKS:
        try:
            check()
            print(f"PASS {check.__name__}")
        except Exception as exc:  # report every check, then fail
            failed += 1
            print(f"FAIL {check.__name__}: {exc}")
    raise SystemExit(1 if failed else 0)
