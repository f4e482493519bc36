"""GPU checks that need no pytest (the lent GPU machine has only torch, numpy, pillow, safetensors):
`python bench/gpu_checks.py`. tests/test_gpu.py runs the same functions under pytest (marker `gpu`)."""

from __future__ import annotations

import sys
from dataclasses import replace
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


def a_compiled_network_paints_the_same_picture() -> None:
    """PatchDM.compile with inductor, then with CUDA graphs: the eager picture to bf16 rounding."""
    eager = PatchDM.random_init(demo(), device="cuda")
    a = run(eager.generate(256, 512, seed=3, steps=4)).cpu()
    for graphs in (False, True):
        fast = PatchDM.random_init(demo(), device="cuda").compile(cuda_graphs=graphs)
        b = run(fast.generate(256, 512, seed=3, steps=4)).cpu()
        diff = (a - b).abs().mean().item()
        print(f"compiled (cuda graphs {graphs}) vs eager mean |difference| {diff:.4f}")
        assert diff < 0.02


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


def speed_levers_train_the_same_model_on_the_gpu() -> None:
    """channels-last, autotune, compile (inductor) and CUDA graphs: the losses of eager bf16 to rounding."""
    import json
    import tempfile

    from patchdm_core import tiny
    from patchdm_core.training.bench import synthetic_pictures
    from patchdm_core.training.loop import train
    from patchdm_core.training.speed import Speed

    cfg = tiny()
    with tempfile.TemporaryDirectory() as tmp:
        data = synthetic_pictures(Path(tmp) / "data", cfg.train.image_size, n=2)
        losses = {}
        for name in ("none", "channels-last,autotune,compile", "channels-last,autotune,cuda-graphs"):
            out = Path(tmp) / name
            train(cfg.replace(train=replace(cfg.train, log_every=1)), data, out, steps=4, device="cuda",
                  speed=Speed.parse(name))  # fmt: skip
            losses[name] = [json.loads(line)["loss"] for line in (out / "log.jsonl").read_text().splitlines()]
        print("losses per lever set:", losses)
        for name, got in losses.items():
            assert len(got) == 4 and all(abs(a - b) <= 2e-2 * abs(b) for a, b in zip(got, losses["none"])), name


def a_denoiser_step_on_the_gpu_waits_for_nothing() -> None:
    """No host round trip inside a step on a GPU-resident canvas (a blocking copy or .item() would drain the
    queue once per band or chunk): CUDA's sync debug mode turns any into an error."""
    pipe = PatchDM.random_init(demo(), device="cuda")
    x = torch.randn(2, 3, 512, 1024, device="cuda")
    t = torch.full((2,), 500, device="cuda")
    cond = pipe.cond(None, batch=2)
    for grid, tileable in (("fixed", False), ("random", False), ("alternate", True)):
        den = pipe.denoiser("feature", chunk=48, grid=grid, tileable=tileable)  # many bands and chunks
        den(x, t, cond)  # call 0 (and the warm-up of kernels and the allocator)
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            den(x, t, cond)  # call 1: a moved lattice under "random" and "alternate"
        finally:
            torch.cuda.set_sync_debug_mode(0)


def the_layout_model_trains_the_same_on_the_gpu() -> None:
    """train-layout --device cuda: the same crops, times and noise as on the CPU (drawn there), so 40 steps
    give the same layouts to fp32 kernel differences."""
    import tempfile

    from PIL import Image

    from patchdm_core.model.layout import LayoutConfig, load_layout_model
    from patchdm_core.training.layout import train_layout

    cfg = LayoutConfig(thumb=(8, 16), channels=8, mult=(1, 2), attn_heights=(4,), heads=1, time_dim=16)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp, "data")
        data.mkdir()
        for i in range(3):
            img = Image.new("RGB", (96, 48), (20, 40 + 20 * i, 20))
            img.paste((230, 200, 150), (0, 0, 96, 24))
            img.save(data / f"sky{i}.png")
        made = {}
        for device in ("cpu", "cuda"):
            out = Path(tmp, f"{device}.safetensors")
            train_layout(data, out, cfg=cfg, steps=40, batch=8, lr=3e-3, device=device, log=lambda _: None)
            made[device] = load_layout_model(out).thumbnail(3, steps=10)
    diff = (made["cpu"] - made["cuda"]).abs().mean().item()
    print(f"layout model cpu vs gpu: mean |difference| of a sampled layout {diff:.4f}")
    assert diff < 0.05


CHECKS = [
    the_layout_model_trains_the_same_on_the_gpu,
    a_denoiser_step_on_the_gpu_waits_for_nothing,
    speed_levers_train_the_same_model_on_the_gpu,
    training_draws_on_the_gpu_and_resumes_exactly,
    same_seed_same_image_on_cpu_and_gpu,
    a_compiled_network_paints_the_same_picture,
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
