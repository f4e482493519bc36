"""The training loop on a folder of images: AdamW, EMA, gradient clipping, bf16 autocast, resumable, and
DistributedDataParallel under torchrun (NCCL on GPUs, gloo on CPUs). What is learned (the loss, the
timesteps and CFG dropout flags) is in objective.py. Besides the EMA of `ema_decay` (weights.safetensors), any
`ema_extra` decays are kept and written to weights-ema<decay>.safetensors, so that the eval can choose.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import signal
import threading
import time
from pathlib import Path

import torch
from torch import Tensor

from ..model.config import PatchDMConfig
from ..model.patchdm import PatchDMModel, count_parameters
from ..model.schedule import Schedule
from ..model.weights import load_into, load_weights
from ..runtime import precision
from ..sampling.noise import randn
from .data import ImageFolderWindows
from .distributed import Distributed
from .objective import Objective, draw_inputs, trainable
from .progress import Progress, save_sample_grid
from .speed import EAGER, Speed, compiled, prepare
from .state import load_state, restore_run, save_run


@dataclasses.dataclass
class TrainResult:
    weights: Path  # the EMA weights file rank 0 wrote
    model: PatchDMModel  # this process's trained (non-EMA) model
    ema: PatchDMModel
    step: int
    extra: dict[float, PatchDMModel] = dataclasses.field(default_factory=dict)  # ema_extra decay -> EMA


def train(
    cfg: PatchDMConfig,
    data: str | Path,
    out: str | Path,
    *,
    steps: int,
    minutes: float | None = None,
    resume: bool = False,
    device: str | None = None,
    seed: int = 0,
    clip_weights: str | None = None,
    init: str | Path | None = None,
    bf16: bool = True,
    speed: Speed = EAGER,
    warmup_steps: int = 0,
) -> TrainResult:
    """Train until `steps` total steps (or `minutes` of wall time); `init` starts from a weights file; `speed`
    picks how the step runs (speed.py), never what it computes. `minutes` counts from the end of the first
    `warmup_steps` steps (bench-train: compiling and autotuning happen there and are not what it times)."""
    out = Path(out)
    dist = Distributed.setup(device)
    speed.check(dist.device)
    info: dict = {}
    if resume:
        tensors, info = load_state(out / "state")
        cfg = PatchDMConfig.from_json(info["config"])
    torch.manual_seed(seed)  # identical initial weights on every rank (DDP only syncs what it wraps)
    model = PatchDMModel(cfg).to(dist.device)
    carried = info.get("carried_metadata", {})  # the latent prior's description, kept across --resume
    if init is not None and not resume:
        _, state, init_meta = load_weights(init)
        load_into(model, state, Path(init).name)
        if cfg.train.freeze_encoder:  # the init's prior was trained on this encoder's codes: it stays valid
            carried = {k: v for k, v in init_meta.items() if k.startswith("latent_")}
    torch.manual_seed(seed + dist.rank)  # but each rank its own dropout stream
    if cfg.encoder.kind == "clip":
        if not clip_weights:
            raise ValueError("the clip encoder needs --clip-weights FILE (a local open_clip weights file)")
        model.encoder.load_tower(clip_weights)
    prepare(model, speed)
    ema = copy.deepcopy(model).requires_grad_(False).eval()
    tc = cfg.train
    if tc.freeze_encoder:
        model.encoder.requires_grad_(False)  # out of trainable(): no gradient, no update, no EMA drift
    dataset = dist.first_rank_first(
        lambda: ImageFolderWindows(
            data,
            tc.image_size,
            cfg.patch_size,
            cfg.encoder.view_size,
            crops=tc.crops,
            hflip=tc.hflip,
            cache_dir=out / "cache",
        )
    )
    dataset.to(dist.device)
    clip_feats = _clip_features(model, dataset) if cfg.encoder.kind == "clip" else None
    schedule = Schedule.linear(cfg.diffusion.timesteps, cfg.diffusion.beta_start, cfg.diffusion.beta_end)
    params = [p for _, p in trainable(model)]
    extra = {d: copy.deepcopy(ema) for d in tc.ema_extra}
    emas = {tc.ema_decay: ema, **extra}
    ema_pairs = {d: ([e.get_parameter(n) for n, _ in trainable(model)], params) for d, e in emas.items()}
    # The warm-up min(decay, (1 + step) / (10 + step)) keeps an EMA from holding random initial weights; it
    # caps every decay for the first ~9 / (1 - decay) steps, so in a shorter run all the ema_extra averages
    # would be the same one. After --init they start at the init's weights, a trained model, and skip it:
    # each keeps its own window (and some of the init) from the first step. The main EMA always warms up.
    extra_warmup = bool(info.get("extra_warmup", True)) if resume else init is None
    ramped = {d: d == tc.ema_decay or extra_warmup for d in emas}
    # one fused kernel per step on CUDA instead of a loop of small ones
    opt = torch.optim.AdamW(params, lr=tc.lr, weight_decay=tc.weight_decay, fused=dist.device.type == "cuda")
    objective = compiled(dist.wrap(Objective(model, schedule, clip_feats)), speed)
    # Every per-step draw (windows, flips, t, CFG flags, noise) comes from this generator, on the training
    # device: drawing 256x3x128x128 noise on 2 CPU threads and copying it over cost more than a GPU step.
    gen = torch.Generator(device=dist.device).manual_seed(seed * 1_000_003 + dist.rank)
    step, seconds = 0, 0.0
    if resume:
        step, seconds = restore_run(tensors, info, model, ema, extra, opt, gen, dist)
    if dist.rank == 0:
        # The config actually trained (on --resume: the one stored in the state, not the CLI's).
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(json.loads(cfg.to_json()), indent=1))
        print(
            f"training {cfg.name}: {count_parameters(model.unet) / 1e6:.2f} M UNet parameters, "
            f"{len(dataset)} images from {data}, batch {tc.batch_size} x {dist.world} process(es) "
            f"on {dist.device}, steps {step} -> {steps}, speed levers: {speed}"
        )
    deadline = time.monotonic() + minutes * 60 if minutes else None
    first = step

    def out_of_time(done: int) -> bool:
        nonlocal deadline
        if deadline is None or done - first < warmup_steps:
            return False
        if warmup_steps and done - first == warmup_steps:  # the clock starts now
            deadline = time.monotonic() + minutes * 60
        return time.monotonic() > deadline

    autocast = precision.autocast(dist.device, enabled=bf16, kind="train")
    progress = Progress(step, steps, out / "log.jsonl", enabled=dist.rank == 0, log_every=tc.log_every)
    start = time.monotonic()

    def save() -> None:
        if dist.rank == 0:
            elapsed = seconds + time.monotonic() - start
            run = {"step": step, "seconds": elapsed, "batch": tc.batch_size * dist.world, "data": str(data)}
            save_run(out, cfg, model, ema, extra, opt, gen, run | {"carried": carried, "extra_warmup": extra_warmup})

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)  # preemption / `kill`: stop cleanly and save, like Ctrl-C
    try:
        while step < steps and not dist.agree_stop(out_of_time(step), step):
            batch = dataset.sample(tc.batch_size, gen, tc.window, tc.offsets)
            t, keep_z, keep_pos = draw_inputs(cfg, tc.batch_size, gen, dist.device)
            noise = randn(batch.x0.shape, gen, dist.device)
            with autocast:
                loss, l_shift, l_plain = objective(batch, t, noise, keep_z, keep_pos)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, tc.grad_clip)
            opt.step()
            for decay, pairs in ema_pairs.items():
                _update_ema(pairs, min(decay, (1 + step) / (10 + step)) if ramped[decay] else decay)
            step += 1
            progress.update(step, loss.detach(), l_shift, l_plain, tc.batch_size * dist.world)
            if tc.sample_every and step % tc.sample_every == 0 and dist.rank == 0:
                save_sample_grid(ema, dataset, clip_feats, out / "samples" / f"step_{step:07d}.png")
            if tc.save_every and step % tc.save_every == 0:
                save()
    except KeyboardInterrupt:
        if dist.rank == 0:
            print(f"\ninterrupted at step {step}: saving")
    progress.close()
    save()
    if dist.rank == 0 and tc.sample_every:
        save_sample_grid(ema, dataset, clip_feats, out / "samples" / f"step_{step:07d}.png")
    dist.close()
    return TrainResult(out / "weights.safetensors", model, ema, step, extra)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@torch.no_grad()
def _clip_features(model: PatchDMModel, dataset: ImageFolderWindows) -> Tensor:
    return torch.cat([model.encoder.tower_features(dataset.image(i)) for i in range(len(dataset))])


@torch.no_grad()
def _update_ema(pairs: tuple[list[Tensor], list[Tensor]], decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model, for every trained parameter at once."""
    torch._foreach_lerp_(pairs[0], pairs[1], 1 - decay)
