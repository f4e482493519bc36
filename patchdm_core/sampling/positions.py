"""Where the network believes each patch sits, and where the cell lattice sits on each denoiser call.

Positions: canvas-local patch-centre coordinates (patch units) -> the positions the model sees,
pos * scale + shift. "absolute": patch units of the whole picture; "stretch": the picture mapped onto
the training frame (a 2048x1024 canvas keeps sky at the top and ground at the bottom). A crop (an
edit's window) keeps the positions it has in its picture. A wrapped (tileable) axis has no edges, so
every cell sits mid-frame along it.

Grid rules (feature mode): `fixed` (the paper), `alternate` (half a patch every other call), `random`
(a fresh offset (dy, dx) in [0, p)^2 per call, from a hash of the picture's seed and the call index).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from .noise import patch_seed

Positions = Literal["absolute", "stretch"]
GridRule = Literal["fixed", "alternate", "random"]
GRIDS: tuple[str, ...] = ("fixed", "alternate", "random")


def position_map(
    rows: int,
    cols: int,
    *,
    positions: Positions,
    train_grid: tuple[int, int] | None,
    window: tuple[int, int, int, int] | None = None,
    wrap: tuple[bool, bool] = (False, False),
) -> tuple[Tensor, Tensor]:
    """(scale, shift) [2] each, (y, x), for a canvas of rows x cols cells; `window` = (row0, col0, rows,
    cols) of the picture this canvas is a crop of, `train_grid` the training frame in cells."""
    r0, c0, pic_rows, pic_cols = window or (0, 0, rows, cols)
    frame = torch.tensor(train_grid or (pic_rows, pic_cols), dtype=torch.float32)
    scale = torch.ones(2)
    if positions == "stretch" and train_grid is not None:
        scale = frame / torch.tensor([pic_rows, pic_cols], dtype=torch.float32)
    shift = torch.tensor([r0, c0], dtype=torch.float32) * scale
    for axis, wrapped in enumerate(wrap):
        if wrapped:
            scale[axis], shift[axis] = 0.0, frame[axis] / 2
    return scale, shift


def lattice_offset(rule: GridRule, call: int, seed: int, p: int) -> tuple[int, int]:
    """(dy, dx) in [0, p): how far the cell lattice of call `call` sits from the canvas's own grid."""
    if rule == "alternate":
        return (p // 2, p // 2) if call % 2 else (0, 0)
    if rule == "random":
        return grid_offset(seed, call, p)
    return (0, 0)


def grid_offset(seed: int, call: int, p: int) -> tuple[int, int]:
    """The random lattice offset (dy, dx), each in [0, p), of call `call` for picture seed `seed`.

    A hash of (seed, call) rather than a stateful generator: the same picture gets the same offsets
    however the calls are batched or resumed."""
    h = patch_seed(seed, -5, call)
    return h % p, (h // p) % p
