"""Stage 2 (`train-latent`): a diffusion model over the global codes of the training set.

The codes are the trained encoder's E(x0) of every training picture (and its mirror image). They
are normalised, an MLP learns to denoise them (eps target, L1 loss, constant beta, as DiffAE's
latent DDIM), and the result is written into the same weights file, so that `generate` without a
reference picture samples a code with `PatchDM.sample_z`.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from ..model.patchdm import PatchDMModel, count_parameters
from ..model.weights import load_into, load_weights, save_weights
from .data import ImageFolderWindows


def luminance(x: Tensor) -> Tensor:
    """Mean Rec. 601 luma (0 black .. 1 white) of pictures [N, 3, H, W] in [-1, 1] -> [N]."""
    rgb = (x.float().clamp(-1, 1) + 1) / 2
    return (0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]).mean(dim=(-2, -1))


@torch.no_grad()
def dataset_codes(model: PatchDMModel, data: str | Path, min_luminance: float = 0.0) -> Tensor:
    """E(x0) of every stored training image and of its mirror image -> [2N, z_dim].

    Pictures whose mean luminance is below `min_luminance` are left out: they stay in the patch model's
    training, so a dark style reference still paints dark, but the prior that `generate` samples codes
    from without a reference does not land on a near-black canvas (the demo prior, trained on all codes,
    painted 4 of seeds 0-47 near-black where 2.5% of its pictures are)."""
    cfg = model.cfg
    ds = ImageFolderWindows(data, cfg.train.image_size, cfg.patch_size, cfg.encoder.view_size, crops=cfg.train.crops)
    keep = (luminance(ds.views) >= min_luminance).tolist()
    if not any(keep):
        raise ValueError(f"every picture in {data} is darker than --min-luminance {min_luminance}")
    if not all(keep):
        print(f"latent prior: {keep.count(False)} of {len(keep)} pictures darker than {min_luminance} left out")
    codes = []
    for i in [i for i, kept in enumerate(keep) if kept]:
        if cfg.encoder.kind == "clip":
            image = ds.image(i)
            codes += [model.encoder(image), model.encoder(image.flip(-1))]
        else:
            view = ds.views[i : i + 1]
            codes += [model.encoder(view), model.encoder(view.flip(-1))]
    return torch.cat(codes).float()


def train_latent(
    model: PatchDMModel,
    codes: Tensor,
    *,
    steps: int,
    batch: int,
    lr: float = 1e-4,
    ema_decay: float = 0.999,
    seed: int = 0,
    log_every: int = 1000,
) -> list[float]:
    """Fit model.latent to the codes (in place, EMA weights kept); returns the logged mean losses."""
    latent = model.latent
    schedule = latent.schedule()
    mean, std = codes.mean(0), codes.std(0).clamp(min=1e-4)
    latent.z_mean.copy_(mean)
    latent.z_std.copy_(std)
    data = latent.normalize(codes)
    ema = copy.deepcopy(latent).requires_grad_(False)
    opt = torch.optim.AdamW(latent.parameters(), lr=lr, weight_decay=0.01)
    gen = torch.Generator().manual_seed(seed)
    losses, running, start = [], 0.0, time.monotonic()
    for step in range(1, steps + 1):
        z0 = data[torch.randint(len(data), (batch,), generator=gen)]
        t = torch.randint(latent.cfg.timesteps, (batch,), generator=gen)
        noise = torch.randn(z0.shape, generator=gen)
        loss = F.l1_loss(latent(schedule.q_sample(z0, t, noise), t), noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            decay = min(ema_decay, (1 + step) / (10 + step))
            torch._foreach_lerp_(list(ema.parameters()), list(latent.parameters()), 1 - decay)
        running += loss.item()
        if step % log_every == 0 or step == steps:
            n = log_every if step % log_every == 0 else step % log_every
            losses.append(running / n)
            print(f"latent step {step}/{steps} L1 {running / n:.4f} ({step / (time.monotonic() - start):.0f} it/s)")
            running = 0.0
    latent.load_state_dict(ema.state_dict())
    latent.trained.fill_(1.0)
    return losses


def fit_prior(
    weights: Path,
    data: Path,
    *,
    out: Path | None = None,
    steps: int | None = None,
    batch: int | None = None,
    lr: float = 1e-4,
    min_luminance: float = 0.0,
    clip_weights: str | None = None,
    seed: int = 0,
) -> Path:
    """Train the latent prior of the weights file `weights` on the codes of the pictures in `data` and
    write the model with it to `out` (default: `weights` itself, in place). steps / batch default to the
    config's latent_steps / latent_batch."""
    cfg, state, meta = load_weights(weights)
    torch.manual_seed(seed)
    model = PatchDMModel(cfg)
    load_into(model, state, weights.name)
    if cfg.encoder.kind == "clip":
        if not clip_weights:
            raise ValueError("this model's encoder is an open_clip tower: pass --clip-weights FILE")
        model.encoder.load_tower(clip_weights)
    codes = dataset_codes(model.eval(), data, min_luminance)
    steps, batch = steps or cfg.train.latent_steps, batch or cfg.train.latent_batch
    print(
        f"latent model: {count_parameters(model.latent) / 1e6:.2f} M parameters, {len(codes)} codes "
        f"of {codes.shape[1]} dims from {data}, {steps} steps of {batch}"
    )
    losses = train_latent(model, codes, steps=steps, batch=batch, lr=lr, seed=seed, log_every=max(1, steps // 20))
    out = out or weights
    meta = {k: v for k, v in meta.items() if k not in ("format", "config")}
    meta |= {"latent_steps": str(steps), "latent_codes": str(len(codes)), "latent_final_l1": f"{losses[-1]:.4f}"}
    meta |= {"latent_min_luminance": str(min_luminance)}
    save_weights(out, model, cfg, metadata=meta)
    print(f"wrote {out} (latent model included)")
    return out
