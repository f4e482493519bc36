"""CanvasDenoiser: a whole canvas [B,3,H,W] -> eps [B,3,H,W], in bounded memory.

Modes:
- `feature` (Patch-DM): pad by p/2, encode the offset grid, collage, decode the aligned grid.
  Padded rows stream through in bands, so at most one band plus one row of encoder features is
  alive and peak memory does not grow with the canvas height. A position rule (`grid`) moves the
  whole cell lattice between calls so that cell borders do not stay in one place: `fixed` (the
  paper), `alternate` (half a patch every other call), `random` (a fresh offset (dy, dx) in
  [0, p)^2 per call, from a hash of `grid_seed` and the call index).
- `naive`: independent aligned patches (encoder and decoder without collage).
- `pixel`: naive on even calls; on odd calls naive on the canvas shifted by half a patch.
- `sliding`: MultiDiffusion-style overlapping p x p windows at `stride`, predictions averaged.
All modes run the network on at most `chunk` patches at a time.
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
from .noise import patch_seed

Mode = Literal["feature", "pixel", "naive", "sliding"]
MODES: tuple[str, ...] = ("feature", "pixel", "naive", "sliding")
GridRule = Literal["fixed", "alternate", "random"]
GRIDS: tuple[str, ...] = ("fixed", "alternate", "random")


@dataclass
class CanvasDenoiser:
    unet: PatchUNet
    mode: Mode = "feature"
    chunk: int = 64  # patches per network call
    stride: int | None = None  # sliding-window stride in pixels (default p / 2)
    wrap: tuple[bool, bool] = (False, False)  # wrap-around (tileable) along (y, x); feature mode
    positions: Literal["absolute", "stretch"] = "absolute"
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
        self._scale, self._shift = self._position_map(x.shape[-2] // p, x.shape[-1] // p)
        # The canvas may live in host memory while the network runs on a GPU: bands travel, eps comes back.
        dev = self.unet.stem.weight.device
        t_dev, cond = t.to(dev), Cond(cond.z.to(dev), cond.keep_z.to(dev), cond.keep_pos.to(dev))
        x_in = x.to(self.unet.stem.weight.dtype)
        with precision.autocast(dev, enabled=self.autocast):
            if self.mode == "feature":
                out = self._feature_moved(x_in, t_dev, cond, self.grid_offset(calls))
            elif self.mode == "sliding":
                out = self._windows(x_in, t_dev, cond, self.stride or p // 2)
            elif self.mode == "pixel" and calls % 2 == 1:
                out = self._windows(pad_half_patch(x_in, p), t_dev, cond, p, offset=-0.5)
                out = crop_half_patch(out, p).contiguous()
            else:
                out = self._windows(x_in, t_dev, cond, p)
        if self.prediction == "v":
            if self.schedule is None:
                raise ValueError("a v-prediction model needs the schedule to turn its output into eps")
            out = self.schedule.eps_from_v(x.float(), t, out, inplace=True)
        return out

    def _position_map(self, rows: int, cols: int) -> tuple[Tensor, Tensor]:
        """Canvas-local positions -> positions the model sees: pos * scale + shift.

        "absolute": patch units of the whole picture; "stretch": the picture mapped onto the training
        frame. A crop (`window`) keeps the positions it has in its picture. A wrapped (tileable) axis has
        no edges, so every cell sits mid-frame along it.
        """
        r0, c0, pic_rows, pic_cols = self.window or (0, 0, rows, cols)
        frame = torch.tensor(self.train_grid or (pic_rows, pic_cols), dtype=torch.float32)
        scale = torch.ones(2)
        if self.positions == "stretch" and self.train_grid is not None:
            scale = frame / torch.tensor([pic_rows, pic_cols], dtype=torch.float32)
        shift = torch.tensor([r0, c0], dtype=torch.float32) * scale
        for axis, wrapped in enumerate(self.wrap):
            if wrapped:
                scale[axis], shift[axis] = 0.0, frame[axis] / 2
        return scale, shift

    def _emb(self, t: Tensor, cond: Cond, index: Tensor, pos: Tensor) -> Emb:
        pos = pos * self._scale.to(pos.device) + self._shift.to(pos.device)
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
            origin = torch.tensor([[float(r0), 0.0]], device=dev).expand(b, 2)
            pos = grid_positions(grid, origin, shifted=True)
            index = torch.arange(b, device=dev).repeat_interleave(k * cols)
            eps = torch.empty(b * k * cols, x.shape[1], p, p, dtype=torch.float32, device=dev)
            for s in self._chunks(eps.shape[0]):
                eps[s] = self.unet.decode([f[s] for f in feats], self._emb(t, cond, index[s], pos[s])).float()
            self.evals["decode"] += eps.shape[0]
            out[:, :, r0 * p : (r0 + k) * p] = from_patches(eps, Grid(k, cols)).to(x.device)
        return out

    def grid_offset(self, call: int) -> tuple[int, int]:
        """(dy, dx) in [0, p): how far the cell lattice of this call sits from the canvas's own grid."""
        p = self.p
        if self.grid == "alternate":
            return (p // 2, p // 2) if call % 2 else (0, 0)
        if self.grid == "random":
            return grid_offset(self.grid_seed, call, p)
        return (0, 0)

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
        origin = torch.tensor([[float(r), 0.0]], device=t.device).expand(b, 2)
        pos = grid_positions(Grid(k, cols), origin)
        index = torch.arange(b, device=t.device).repeat_interleave(k * cols)
        parts = [self.unet.encode(patches[s], self._emb(t, cond, index[s], pos[s])) for s in self._chunks(len(patches))]
        self.evals["encode"] += len(patches)
        return [torch.cat(level).reshape(b, k, cols, *level[0].shape[1:]) for level in zip(*parts)]

    # -- independent windows: naive, pixel, sliding ----------------------------------------------

    def _windows(self, x: Tensor, t: Tensor, cond: Cond, stride: int, offset: float = 0.0) -> Tensor:
        """Plain UNet on p x p windows at `stride`, averaged where they overlap."""
        p, (b, c, h, w) = self.p, x.shape
        ys, xs = _starts(h, p, stride), _starts(w, p, stride)
        total = torch.zeros(b, c, h, w, dtype=torch.float32, device=x.device)
        count = torch.zeros(1, 1, h, w, dtype=torch.float32, device=x.device)
        for y in ys:
            for x0 in xs:
                count[..., y : y + p, x0 : x0 + p] += 1
        windows = [(i, y, x0) for i in range(b) for y in ys for x0 in xs]
        for s in self._chunks(len(windows)):
            batch = windows[s]
            patches = self._prep(torch.stack([x[i, :, y : y + p, x0 : x0 + p] for i, y, x0 in batch]))
            index = torch.tensor([i for i, _, _ in batch], device=t.device)
            # centre of the window in patch units: an aligned cell k sits at k + 0.5
            pos = torch.tensor([[y / p + 0.5 + offset, x0 / p + 0.5 + offset] for _, y, x0 in batch], device=t.device)
            emb = self._emb(t, cond, index, pos)
            eps = self.unet.decode(self.unet.encode(patches, emb), emb).float().to(x.device)
            for (i, y, x0), e in zip(batch, eps):
                total[i, :, y : y + p, x0 : x0 + p] += e
        self.evals["encode"] += len(windows)
        self.evals["decode"] += len(windows)
        return total / count


def grid_offset(seed: int, call: int, p: int) -> tuple[int, int]:
    """The random lattice offset (dy, dx), each in [0, p), of call `call` for picture seed `seed`.

    A hash of (seed, call) rather than a stateful generator: the same picture gets the same offsets
    however the calls are batched or resumed."""
    h = patch_seed(seed, -5, call)
    return h % p, (h // p) % p


def _starts(n: int, p: int, stride: int) -> list[int]:
    """Window origins covering [0, n): every `stride`, plus a last one flush with the end."""
    if stride < 1:
        raise ValueError("stride must be at least 1 pixel")
    starts = list(range(0, n - p + 1, stride))
    if starts[-1] != n - p:
        starts.append(n - p)
    return starts


def evals_per_step(mode: str, height: int, width: int, p: int, stride: int | None = None) -> int:
    """Network evaluations (encoder + decoder patches) of one unguided call, without running it."""
    rows, cols = height // p, width // p
    if mode == "feature":
        return (rows + 1) * (cols + 1) + rows * cols
    if mode == "sliding":
        s = stride or p // 2
        return 2 * len(_starts(height, p, s)) * len(_starts(width, p, s))
    return 2 * rows * cols
