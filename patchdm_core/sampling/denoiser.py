"""CanvasDenoiser: a whole canvas [B,3,H,W] -> eps [B,3,H,W], in bounded memory.

`feature` mode (Patch-DM): pad by p/2, encode the offset grid, collage, decode the aligned grid.
Padded rows stream through in bands, so at most one band plus one row of encoder features is alive
and peak memory does not grow with the canvas height. A grid rule moves the whole cell lattice
between calls so that cell borders do not stay in one place (positions.py). The comparison modes
`naive`, `pixel` and `sliding` run the plain network on windows (windows.py). Every mode runs the
network on at most `chunk` patches at a time and returns eps, whatever the network predicts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from ..model.blocks import Emb
from ..model.collage import (
    Grid,
    collage_band,
    crop_half_patch,
    from_patches,
    grid_positions,
    pad_half_patch,
    padded_band,
    to_patches,
)
from ..model.schedule import Schedule
from ..model.unet import PatchUNet
from ..runtime import precision
from .guidance import Cond
from .positions import GRIDS, GridRule, Positions, lattice_offset, position_map
from .windows import starts, window_eps

Mode = Literal["feature", "pixel", "naive", "sliding"]
MODES: tuple[str, ...] = ("feature", "pixel", "naive", "sliding")


@dataclass
class CanvasDenoiser:
    unet: PatchUNet
    mode: Mode = "feature"
    chunk: int = 64  # patches per network call
    stride: int | None = None  # sliding-window stride in pixels (default p / 2)
    wrap: tuple[bool, bool] = (False, False)  # wrap-around (tileable) along (y, x); feature mode
    positions: Positions = "absolute"
    train_grid: tuple[int, int] | None = None  # training image in patches (rows, cols), for "stretch"
    autocast: bool = True  # bf16 autocast on CPU and CUDA
    window: tuple[int, int, int, int] | None = None  # (row0, col0, rows, cols) in cells: this canvas is a crop
    grid: GridRule = "fixed"  # feature mode: where the cell lattice sits on each call (see the module doc)
    grid_seed: int = 0  # seeds the offsets of grid "random" (the picture's seed: same seed, same picture)
    prediction: Literal["eps", "v"] = "eps"  # what the network outputs; __call__ always returns eps
    schedule: Schedule | None = None  # needed to turn a v output into eps
    evals: dict[str, int] = field(default_factory=lambda: {"encode": 0, "decode": 0, "calls": 0})

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; choose one of {', '.join(MODES)}")
        if self.chunk < 1:
            raise ValueError("chunk must be at least 1")
        if self.grid not in GRIDS:
            raise ValueError(f"unknown grid rule {self.grid!r}; choose one of {', '.join(GRIDS)}")

    @property
    def p(self) -> int:
        return self.unet.cfg.patch_size

    @torch.no_grad()  # not inference_mode: callers update the returned eps in place
    def __call__(self, x: Tensor, t: Tensor, cond: Cond) -> Tensor:
        """x [B,3,H,W] (H, W multiples of p), t [B] -> eps [B,3,H,W] float32."""
        p = self.p
        if x.shape[-2] % p or x.shape[-1] % p:
            raise ValueError(f"canvas {x.shape[-1]}x{x.shape[-2]} is not a multiple of the patch size {p}")
        calls = self.evals["calls"]
        self.evals["calls"] += 1
        self._scale, self._shift = position_map(
            x.shape[-2] // p,
            x.shape[-1] // p,
            positions=self.positions,
            train_grid=self.train_grid,
            window=self.window,
            wrap=self.wrap,
        )
        # The canvas may live in host memory while the network runs on a GPU: bands travel, eps comes back.
        dev = self.unet.stem.weight.device
        t_dev, cond = t.to(dev), Cond(cond.z.to(dev), cond.keep_z.to(dev), cond.keep_pos.to(dev))
        x_in = x.to(self.unet.stem.weight.dtype)
        with precision.autocast(dev, enabled=self.autocast):
            if self.mode == "feature":
                out = self._feature_moved(x_in, t_dev, cond, self.grid_offset(calls))
            elif self.mode == "sliding":
                out = window_eps(self._plain_net(t_dev, cond), x_in, p, self.stride or p // 2, self.chunk)
            elif self.mode == "pixel" and calls % 2 == 1:
                padded = pad_half_patch(x_in, p)
                out = window_eps(self._plain_net(t_dev, cond), padded, p, p, self.chunk, offset=-0.5)
                out = crop_half_patch(out, p).contiguous()
            else:
                out = window_eps(self._plain_net(t_dev, cond), x_in, p, p, self.chunk)
        if self.prediction == "v":
            if self.schedule is None:
                raise ValueError("a v-prediction model needs the schedule to turn its output into eps")
            out = self.schedule.eps_from_v(x.float(), t, out, inplace=True)
        return out

    def grid_offset(self, call: int) -> tuple[int, int]:
        """(dy, dx) in [0, p): how far the cell lattice of call `call` sits from the canvas's own grid."""
        return lattice_offset(self.grid, call, self.grid_seed, self.p)

    def _emb(self, t: Tensor, cond: Cond, index: Tensor, pos: Tensor) -> Emb:
        # non_blocking: a blocking host-to-GPU copy waits for every queued kernel (a host round trip per chunk)
        pos = pos * self._scale.to(pos.device, non_blocking=True) + self._shift.to(pos.device, non_blocking=True)
        return self.unet.embed(t[index], pos, cond.keep_pos[index], cond.z[index], cond.keep_z[index])

    def _chunks(self, n: int) -> Iterator[slice]:
        for s in range(0, n, self.chunk):
            yield slice(s, min(n, s + self.chunk))

    def _prep(self, x: Tensor) -> Tensor:
        """Patches onto the network's device, in its memory format."""
        w = self.unet.stem.weight
        x = x.to(w.device, non_blocking=True)
        return (
            x.contiguous(memory_format=torch.channels_last) if w.is_contiguous(memory_format=torch.channels_last) else x
        )

    def _plain_net(self, t: Tensor, cond: Cond):
        """The network without collage, for the window modes: (patches, index, pos) -> eps float32."""

        def net(patches: Tensor, index: Tensor, pos: Tensor) -> Tensor:
            emb = self._emb(t, cond, index.to(t.device, non_blocking=True), pos.to(t.device, non_blocking=True))
            patches = self._prep(patches)
            self.evals["encode"] += len(patches)
            self.evals["decode"] += len(patches)
            return self.unet.decode(self.unet.encode(patches, emb), emb).float()

        return net

    # -- feature collage, streamed by bands of patch rows ------------------------------------------

    def _feature(self, x: Tensor, t: Tensor, cond: Cond) -> Tensor:
        p, (b, _, h, w) = self.p, x.shape
        rows, cols = h // p, w // p
        out = torch.empty(b, x.shape[1], h, w, dtype=torch.float32, device=x.device)
        band = max(1, self.chunk // (b * (cols + 1)))
        prev = self._encode_rows(x, t, cond, 0, 1)
        for r0 in range(0, rows, band):
            k = min(band, rows - r0)
            cur = self._encode_rows(x, t, cond, r0 + 1, k)
            grid = Grid(k + 1, cols + 1)
            feats = [collage_band(a, c) for a, c in zip(prev, cur)]
            prev = [c[:, -1:].clone() for c in cur]  # a view would keep the whole band alive
            del cur
            dev = t.device
            origin = _origin(r0, b, dev)
            pos = grid_positions(grid, origin, shifted=True)
            index = torch.arange(b, device=dev).repeat_interleave(k * cols)
            eps = torch.empty(b * k * cols, x.shape[1], p, p, dtype=torch.float32, device=dev)
            for s in self._chunks(eps.shape[0]):
                eps[s] = self.unet.decode([f[s] for f in feats], self._emb(t, cond, index[s], pos[s])).float()
            self.evals["decode"] += eps.shape[0]
            out[:, :, r0 * p : (r0 + k) * p] = from_patches(eps, Grid(k, cols)).to(x.device)
        return out

    def _feature_moved(self, x: Tensor, t: Tensor, cond: Cond, offset: tuple[int, int]) -> Tensor:
        """Feature mode with the cell lattice moved by `offset` = (dy, dx) px: cells start at -dy, -dx.

        An open axis is padded by dy before and p - dy after (mirroring the canvas, so the network sees
        picture-like content rather than a border it never met in training); a wrapped axis is rolled
        instead, so its wrap seam moves like every other border. Positions follow the moved cells."""
        if offset == (0, 0):
            return self._feature(x, t, cond)
        p, pads, rolls = self.p, [], []
        for axis, o in enumerate(offset):
            pads.append((0, 0) if self.wrap[axis] or o == 0 else (o, p - o))  # pads < p <= canvas side
            rolls.append(o if self.wrap[axis] else 0)
        moved = torch.roll(x, rolls, dims=(-2, -1)) if any(rolls) else x
        (top, bottom), (left, right) = pads
        if top or left:
            moved = F.pad(moved, (left, right, top, bottom), mode="reflect")
        shift = self._shift.clone()
        self._shift = self._shift - self._scale * torch.tensor([top / p, left / p], dtype=torch.float32)
        try:
            out = self._feature(moved, t, cond)
        finally:
            self._shift = shift
        out = out[..., top : out.shape[-2] - bottom, left : out.shape[-1] - right]
        if any(rolls):
            out = torch.roll(out, [-r for r in rolls], dims=(-2, -1))
        return out.contiguous()

    def _encode_rows(self, x: Tensor, t: Tensor, cond: Cond, r: int, k: int) -> list[Tensor]:
        """Encode rows r..r+k-1 of the half-patch-padded canvas -> per level [B, k, cols+1, c, h, h]."""
        p, b = self.p, x.shape[0]
        band = padded_band(x, p, r * p, k * p, self.wrap)  # built per band: no padded copy of the canvas
        cols = band.shape[-1] // p
        patches = self._prep(to_patches(band, p))
        origin = _origin(r, b, t.device)
        pos = grid_positions(Grid(k, cols), origin)
        index = torch.arange(b, device=t.device).repeat_interleave(k * cols)
        parts = [self.unet.encode(patches[s], self._emb(t, cond, index[s], pos[s])) for s in self._chunks(len(patches))]
        self.evals["encode"] += len(patches)
        return [torch.cat(level).reshape(b, k, cols, *level[0].shape[1:]) for level in zip(*parts)]


def _origin(row: int, b: int, device: torch.device) -> Tensor:
    """[b, 2] = (row, 0) made on the device (torch.tensor(..., device=gpu) is a blocking host copy)."""
    origin = torch.zeros(b, 2, device=device)
    origin[:, 0] = float(row)
    return origin


def evals_per_step(mode: str, height: int, width: int, p: int, stride: int | None = None) -> int:
    """Network evaluations (encoder + decoder patches) of one unguided call, without running it."""
    rows, cols = height // p, width // p
    if mode == "feature":
        return (rows + 1) * (cols + 1) + rows * cols
    if mode == "sliding":
        s = stride or p // 2
        return 2 * len(starts(height, p, s)) * len(starts(width, p, s))
    return 2 * rows * cols
