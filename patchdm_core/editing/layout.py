"""A composition stage: a layout of colour, painted at full size by img2img (SDEdit), so that a canvas gets
the large shapes of a real wallpaper (a sky over a field, a band across, one big form) that the patch model
alone does not paint.

The patch model sees 64-px patches and a global code; the code sets the palette and the texture but
carries little of where things are, so `generate` paints colour fields. Measured with no layout model at
all (bench/experiments/layout_bound.py, v1.3, 512x256): the 64x32 layouts of training pictures, painted
at strength 0.6, scored a thumbnail SWD 30% below generate's, finest level unchanged.

Two sources of layouts (anything with `thumbnail(seed)`):
- LayoutBank: the training pictures' own 64x32 thumbnails, one picked by the seed (a "retrieval" prior).
  A PNG sheet (scripts/layout_bank.py writes it; its text chunk names the thumbnail size and count).
- LayoutModel (model/layout.py, `train-layout`): a small diffusion model over those thumbnails that
  samples new ones.
For a canvas of another aspect the thumbnail is centre-cropped to it. Which one is the default, if any,
is measured in weights/README.md ("Composition").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from ..model.layout import load_layout_model
from ..model.weights import CheckpointError
from ..sampling.noise import patch_seed
from ..sampling.painter import Painter
from ..sampling.solvers import Step
from .steering import img2img

COMPOSITIONS = ("none", "layouts", "layout-model")  # where a canvas's layout comes from: nowhere, bank, model
STRENGTH = 0.6  # the bound's best: 0.8 kept less of the layout, lower strengths keep its blur


def bank_beside(weights: str | Path) -> Path:
    """Where a weights file's layout bank lives: WEIGHTS-layouts.png next to it."""
    weights = Path(weights)
    return weights.with_name(f"{weights.stem}-layouts.png")


def model_beside(weights: str | Path) -> Path:
    """Where a weights file's layout model lives: WEIGHTS-layout.safetensors next to it."""
    weights = Path(weights)
    return weights.with_name(f"{weights.stem}-layout.safetensors")


def sources_beside(weights: str | Path) -> tuple[dict[str, LayoutSource], list[str]]:
    """The layout sources found beside a weights file, by composition name: "layouts" (the bank,
    WEIGHTS-layouts.png) and "layout-model" (WEIGHTS-layout.safetensors); and a line for each that is there
    but cannot be read."""
    found, problems = {}, []
    for name, path, load in (
        ("layouts", bank_beside(weights), LayoutBank.load),
        ("layout-model", model_beside(weights), load_layout_model),
    ):
        if path.is_file():
            try:
                found[name] = load(path)
            except (ValueError, CheckpointError) as exc:
                problems.append(f"{exc}; Composition: {name} is off")
    return found, problems


class LayoutBank:
    """Thumbnails [N, 3, h, w] in [-1, 1] of training pictures' whole canvases."""

    def __init__(self, thumbs: Tensor) -> None:
        if thumbs.ndim != 4 or thumbs.shape[1] != 3 or len(thumbs) == 0:
            raise ValueError(f"a layout bank holds [N, 3, h, w] thumbnails, got {tuple(thumbs.shape)}")
        self.thumbs = thumbs.float()

    def __len__(self) -> int:
        return len(self.thumbs)

    @classmethod
    def load(cls, path: str | Path) -> LayoutBank:
        """Read a sheet written by `save` (scripts/layout_bank.py)."""
        path = Path(path)
        try:
            sheet = Image.open(path)
            sheet.load()
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the layout bank {path}: {exc}") from None
        info = getattr(sheet, "text", {}) or {}
        try:
            w, h = (int(v) for v in info["thumb"].split("x"))
            count, columns = int(info["count"]), int(info["columns"])
        except (KeyError, ValueError):
            raise ValueError(f"{path} is not a layout bank (no thumb, count and columns in its text)") from None
        if min(w, h, count, columns) <= 0:
            raise ValueError(f"{path}: its thumbnail size, count and columns must be positive")
        if not (0 < count <= columns * (sheet.height // h) and columns * w <= sheet.width):
            raise ValueError(f"{path}: {count} thumbnails of {w}x{h} do not fit its {sheet.width}x{sheet.height}")
        pixels = torch.from_numpy(np.asarray(sheet.convert("RGB"), dtype=np.uint8).copy())
        thumbs = [
            pixels[(i // columns) * h : (i // columns + 1) * h, (i % columns) * w : (i % columns + 1) * w]
            for i in range(count)
        ]
        return cls(torch.stack(thumbs).permute(0, 3, 1, 2).float() / 127.5 - 1)

    def save(self, path: str | Path, columns: int = 16, source: str = "") -> Path:
        """Write the bank as a PNG sheet, `columns` thumbnails a row."""
        from PIL import PngImagePlugin

        n, _, h, w = self.thumbs.shape
        rows = -(-n // columns)
        sheet = np.zeros((rows * h, columns * w, 3), dtype=np.uint8)
        pixels = ((self.thumbs.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
        for i in range(n):
            r, c = divmod(i, columns)
            sheet[r * h : (r + 1) * h, c * w : (c + 1) * w] = pixels[i]
        info = PngImagePlugin.PngInfo()
        for key, value in {"thumb": f"{w}x{h}", "count": str(n), "columns": str(columns), "source": source}.items():
            info.add_text(key, value)
        path = Path(path)
        Image.fromarray(sheet).save(path, pnginfo=info, optimize=True)
        return path

    def thumbnail(self, seed: int) -> Tensor:
        """The seed's thumbnail [1, 3, h, w]: one of the bank, mirrored for half the seeds."""
        gen = torch.Generator().manual_seed(seed)
        index = int(torch.randint(len(self), (1,), generator=gen))
        thumb = self.thumbs[index : index + 1]
        return thumb.flip(-1) if float(torch.rand(1, generator=gen)) < 0.5 else thumb

    def layout(self, seed: int, height: int, width: int) -> Tensor:
        return layout_of(self, seed, height, width)


class LayoutSource(Protocol):
    """Where layouts come from: a LayoutBank (training pictures) or a LayoutModel (model/layout.py: new ones)."""

    def thumbnail(self, seed: int) -> Tensor: ...


def layout_of(source: LayoutSource, seed: int, height: int, width: int) -> Tensor:
    """The seed's layout [1, 3, height, width]: the source's thumbnail for a seed of its own (apart from the
    canvas's noise), centre-cropped to the canvas's aspect and smoothly enlarged (bicubic: shapes and
    gradients, no texture)."""
    thumb = source.thumbnail(patch_seed(seed, -3, -3))
    _, _, th, tw = thumb.shape
    if width * th > height * tw:  # the canvas is wider: keep the full width, fewer rows
        keep = max(2, round(tw * height / width))
        thumb = thumb[..., (th - keep) // 2 : (th - keep) // 2 + keep, :]
    else:
        keep = max(2, round(th * width / height))
        thumb = thumb[..., (tw - keep) // 2 : (tw - keep) // 2 + keep]
    return F.interpolate(thumb, size=(height, width), mode="bicubic", align_corners=False).clamp(-1, 1)


def compose(
    painter: Painter,
    source: LayoutSource,
    height: int,
    width: int,
    *,
    seed: int,
    strength: float = STRENGTH,
    **kw,
) -> Iterator[Step]:
    """Paint a canvas on the seed's layout: img2img of the enlarged thumbnail at `strength` (its global code
    is the layout's own). kw: steps, guidance, eta, grid, sampler, mode, tileable, chunk, positions, z."""
    layout = layout_of(source, seed, height, width)
    yield from img2img(painter, layout, strength=strength, seed=seed, **kw)
