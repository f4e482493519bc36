"""What a training run shows while it trains: a progress bar, a log line and a JSON line every few steps
(loss, speed, ETA), and sample grids painted with the EMA weights."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..pipeline import PatchDM
from ..runtime.images import save_png, to_pil
from ..runtime.sizes import round_up
from ..sampling.solvers import run


class Progress:
    """A tqdm bar (when tqdm is installed) plus a log line and a JSON line every `log_every` steps."""

    def __init__(self, step: int, total: int, log_path: Path, *, enabled: bool, log_every: int) -> None:
        self.enabled, self.total, self.log_every, self.log_path = enabled, total, max(1, log_every), log_path
        self.sums: Tensor | None = None
        self.count, self.window_step, self.window_t = 0, step, time.monotonic()
        self.bar = None
        if enabled and sys.stderr.isatty():  # in logs, the periodic lines below are enough
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, initial=step, unit="step", file=sys.stderr, dynamic_ncols=True)
            except ImportError:
                pass

    def update(self, step: int, loss: Tensor, l_shift: Tensor, l_plain: Tensor, samples: int) -> None:
        if not self.enabled:
            return
        parts = torch.stack([loss.float(), l_shift.float(), l_plain.float()])
        self.sums = parts if self.sums is None else self.sums + parts  # stays on device: no sync per step
        self.count += 1
        if self.bar is not None:
            self.bar.update(1)
        if step % self.log_every and step != self.total:
            return
        loss_avg, shift_avg, plain_avg = (self.sums / self.count).tolist()
        now = time.monotonic()
        it_s = (step - self.window_step) / max(now - self.window_t, 1e-9)
        eta = (self.total - step) / max(it_s, 1e-9)
        line = (
            f"step {step}/{self.total} loss {loss_avg:.4f} (centre {shift_avg:.4f}, plain {plain_avg:.4f}) "
            f"{it_s:.2f} it/s {it_s * samples:.0f} samples/s ETA {eta / 60:.1f} min"
        )
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss_avg:.4f}")
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, flush=True)
        with open(self.log_path, "a") as f:
            f.write(
                json.dumps(
                    {
                        "step": step,
                        "loss": loss_avg,
                        "loss_centre": shift_avg,
                        "loss_plain": plain_avg,
                        "it_s": it_s,
                        "time": time.time(),
                    }
                )
                + "\n"
            )
        self.sums, self.count, self.window_step, self.window_t = None, 0, step, now

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@torch.no_grad()
def save_sample_grid(model: nn.Module, dataset, clip_feats: Tensor | None, path: Path, steps: int = 20) -> None:
    """Two samples at half the training size, each beside the training image whose code it used."""

    device = next(model.parameters()).device
    pipe = PatchDM(model, device=device, name=model.cfg.name, model_hash="training")
    p, (h, w) = dataset.p, dataset.image_size
    h2, w2 = round_up(h // 2, p), round_up(w // 2, p)
    rows = []
    for k, i in enumerate(sorted({0, len(dataset) // 2})):
        z = (
            model.encoder.proj(clip_feats[i : i + 1])
            if clip_feats is not None
            else model.encoder(dataset.views[i : i + 1])
        )
        x = run(pipe.generate(h2, w2, seed=k, steps=steps, z=z))
        ref = F.interpolate(dataset.image(i), size=(h2, w2), mode="area")
        rows.append(torch.cat([x.float().cpu(), ref.float().cpu()], dim=-1))
    save_png(
        to_pil(torch.cat(rows, dim=-2)), path, {"Samples": "generated | training image of the code", "Steps": steps}
    )
