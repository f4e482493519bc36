"""`train-layout`: the layout model (model/layout.py) learns thumbnails of the training pictures (32x16 by default).

A folder of wallpapers gives a hundred or so layouts, far too few for a diffusion model not to learn them
by heart, so every sample is a fresh 2:1 crop: a random 70-100% of the widest 2:1 box the picture holds,
at a random place, mirrored half of the time, shrunk by area to the thumbnail (the layout of its colour,
none of its texture). Pictures whose layout is a logo or a word, and near-black ones, are left out as
for the layout bank and the prior: a model that proposes half-formed logos is worse than none.
"""

from __future__ import annotations

import copy
import fnmatch
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..model.layout import LayoutConfig, LayoutModel, LayoutUNet, layout_schedule, save_layout_model
from ..model.patchdm import count_parameters
from ..runtime.pictures import list_images, load_rgb
from .latent import luminance

# the Debian pictures whose 64x32 layout shows a logo or a word (looked at, on the sheet of all of them);
# a name with "logo" in it too, unless it says "no-logo"
LOGOS = ("*MATE-Stripes*", "*Float-into-MATE*", "*GreenTraditional*", "xfdesktop4-data__xfce-*")
KEEP_SIDE = 256  # pictures are kept this long on their long side: 4x the thumbnail, enough for any crop
MIN_CROP = 0.7  # the smallest crop, as a share of the widest 2:1 box


def shows_a_logo(name: str, patterns: tuple[str, ...] = LOGOS) -> bool:
    low = name.lower()
    return ("logo" in low and "no-logo" not in low) or any(fnmatch.fnmatch(name, p) for p in patterns)


def centre_thumb(picture: Tensor, size: tuple[int, int]) -> Tensor:
    """[3, H, W] -> [3, h, w]: the centred cover-crop to the aspect of `size`, shrunk by area."""
    h, w = size
    _, ph, pw = picture.shape
    ch, cw = (ph, round(ph * w / h)) if pw * h >= ph * w else (round(pw * h / w), pw)
    y, x = (ph - ch) // 2, (pw - cw) // 2
    return F.interpolate(picture[None, :, y : y + ch, x : x + cw], size=size, mode="area")[0]


class LayoutPictures:
    """The usable pictures of a folder, each [3, <=KEEP_SIDE, <=KEEP_SIDE] in [-1, 1], served as random crops."""

    def __init__(
        self,
        root: str | Path,
        thumb: tuple[int, int],
        *,
        exclude: tuple[str, ...] = LOGOS,
        min_luminance: float = 0.2,
        log=print,
    ) -> None:
        self.thumb, self.pictures, self.names = thumb, [], []
        for f in list_images(root):
            if shows_a_logo(f.name, exclude):
                log(f"layout data: left out (logo or text) {f.name}")
                continue
            img = load_rgb(f)  # None (with a warning) for an overlay or an unreadable file
            if img is None:
                continue
            img.thumbnail((KEEP_SIDE, KEEP_SIDE), reducing_gap=3.0)
            x = torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1).float() / 127.5 - 1
            lum = float(luminance(centre_thumb(x, thumb)[None])[0])
            if lum < min_luminance:
                log(f"layout data: left out (mean luminance {lum:.2f}) {f.name}")
                continue
            self.pictures.append(x)
            self.names.append(f.name)
        if not self.pictures:
            raise ValueError(f"no usable pictures for layouts in {root}")

    def __len__(self) -> int:
        return len(self.pictures)

    def centre(self) -> Tensor:
        """Every picture's centred thumbnail [N, 3, h, w] (what the layout bank holds)."""
        return torch.stack([centre_thumb(p, self.thumb) for p in self.pictures])

    def batch(self, n: int, gen: torch.Generator) -> Tensor:
        """n random crops [n, 3, h, w]: a picture, a crop of 70-100% of its widest box, a place, a mirror."""
        h, w = self.thumb
        out = []
        for i in torch.randint(len(self), (n,), generator=gen).tolist():
            pic = self.pictures[i]
            _, ph, pw = pic.shape
            bw = min(pw, ph * w / h)  # the widest box of the thumbnail's aspect
            share = MIN_CROP + (1 - MIN_CROP) * float(torch.rand(1, generator=gen))
            cw = max(w // 4, round(bw * share))
            ch = max(h // 4, min(ph, round(cw * h / w)))
            y = int(torch.randint(ph - ch + 1, (1,), generator=gen))
            x = int(torch.randint(pw - cw + 1, (1,), generator=gen))
            crop = F.interpolate(pic[None, :, y : y + ch, x : x + cw], size=(h, w), mode="area")[0]
            out.append(crop.flip(-1) if float(torch.rand(1, generator=gen)) < 0.5 else crop)
        return torch.stack(out)


def forward_flops(net: LayoutUNet) -> float:
    """Counted FLOPs of one thumbnail's forward pass (torch's FlopCounterMode: 2 per multiply-add)."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, 3, *net.cfg.thumb)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(x, torch.zeros(1, dtype=torch.long))
    return float(counter.get_total_flops())


def train_layout(
    data: str | Path,
    out: str | Path,
    *,
    cfg: LayoutConfig | None = None,
    steps: int = 100_000,
    minutes: float | None = None,
    batch: int = 32,
    lr: float = 1e-3,
    ema_decay: float = 0.999,
    seed: int = 0,
    save_minutes: float = 5.0,
    log_every: int = 50,
    init: LayoutModel | None = None,
    device: str | torch.device = "cpu",
    log=print,
) -> Path:
    """Train the layout model on `data` until `steps` or `minutes`, writing the EMA weights to `out` every
    `save_minutes` and at the end. Returns `out`. `init`: continue from a trained layout model (its config;
    the EMA starts at its weights without the warm-up, which would throw away what it holds)."""
    cfg = init.cfg if init is not None else (cfg or LayoutConfig())
    torch.manual_seed(seed)
    pictures = LayoutPictures(data, cfg.thumb, log=log)
    net = LayoutUNet(cfg)
    before = {"steps": 0, "flop": 0.0}
    if init is not None:
        net.load_state_dict(init.net.state_dict())
        before = {
            "steps": int(init.metadata.get("total_steps", init.metadata.get("train_steps", 0))),
            "flop": float(init.metadata.get("total_flop", init.metadata.get("train_flop", 0))),
        }
    flops = 3 * forward_flops(net)  # forward + backward (twice the forward) per training thumbnail
    net.to(device)
    ema = copy.deepcopy(net).requires_grad_(False)
    schedule = layout_schedule(cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed)
    log(
        f"layout model: {count_parameters(net) / 1e6:.2f} M parameters, {len(pictures)} pictures of {data}, "
        f"thumbnails {cfg.thumb[1]}x{cfg.thumb[0]}, batch {batch}, {flops / 1e9:.2f} GFLOP per training thumbnail"
    )
    start = last_save = time.monotonic()
    running, step = 0.0, 0

    def save(final: bool) -> None:
        meta = {
            "train_steps": str(step),
            "train_seconds": f"{time.monotonic() - start:.0f}",
            "train_thumbnails": str(step * batch),
            "train_flop": f"{step * batch * flops:.4g}",  # counted: forward + backward
            "total_steps": str(before["steps"] + step),  # with the --init model's own
            "total_flop": f"{before['flop'] + step * batch * flops:.4g}",
            "train_pictures": str(len(pictures)),
            "train_data": str(data),
            "final": str(final).lower(),
        }
        save_layout_model(out, ema, meta)

    try:
        while step < steps and (minutes is None or time.monotonic() - start < minutes * 60):
            step += 1
            x0 = pictures.batch(batch, gen)  # crops, times and noise drawn on the CPU: the same run on any device
            t = torch.randint(cfg.timesteps, (batch,), generator=gen)
            noise = torch.randn(x0.shape, generator=gen)
            x0, t, noise = (v.to(device, non_blocking=True) for v in (x0, t, noise))
            loss = F.mse_loss(net(schedule.q_sample(x0, t, noise), t), schedule.v_target(x0, t, noise))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            with torch.no_grad():
                decay = ema_decay if init is not None else min(ema_decay, (1 + step) / (10 + step))
                torch._foreach_lerp_(list(ema.parameters()), list(net.parameters()), 1 - decay)
            running += loss.item()
            if step % log_every == 0:
                rate = step / (time.monotonic() - start)
                log(f"layout step {step} loss {running / log_every:.4f} ({rate:.2f} steps/s)")
                running = 0.0
                if not math.isfinite(loss.item()):
                    raise FloatingPointError(f"layout training diverged at step {step} (loss {loss.item()})")
            if time.monotonic() - last_save > save_minutes * 60:
                save(final=False)
                last_save = time.monotonic()
    except KeyboardInterrupt:  # Ctrl-C: keep what was learned (written as not final), then stop as asked
        save(final=False)
        raise
    save(final=True)
    log(f"wrote {out}: {step} steps of {batch}, {step * batch * flops / 1e12:.1f} TFLOP counted")
    return Path(out)
