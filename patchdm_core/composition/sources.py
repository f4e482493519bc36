"""Layout sources: where the large shapes of a canvas come from. Each gives, for a seed and a canvas size, a
smooth picture [1, 3, height, width] in [-1, 1] that the painter brings in (pipeline.PatchDM.compose:
structure guidance, or img2img for a variation).

- DesignedLayouts: compositions drawn new from the seed (designs.py: waves, ridges, a horizon with a sun,
  blobs, planes, ribbons, rings, gradient meshes) in a palette by a colour rule or a picture's own.
- LayoutBank ("training-layouts"): the training pictures' own 64x32 thumbnails, one picked by the seed. Its
  canvases are repaints of those pictures, not new compositions (docs/experiments/composition.md).
- LayoutModel (model/layout.py, `train-layout`): a small diffusion model that samples new thumbnails.
- PictureLayout: the composition of a picture the user gives.
The bank's and the model's thumbnails are centre-cropped to the canvas's aspect and enlarged smoothly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from ..model.layout import load_layout_model
from ..model.weights import CheckpointError
from ..runtime.images import from_pil
from ..sampling.noise import patch_seed
from .designs import FAMILIES, design
from .palettes import Palette, from_picture

# where a canvas's composition comes from; "layouts" is the old name of "training-layouts"
COMPOSITIONS = ("none", "designed", "training-layouts", "layout-model")
ALIASES = {"layouts": "training-layouts"}
DEFAULT_COMPOSITION = "none"  # what generate paints on when not told (docs/experiments/composition.md)
HOWS = ("structure", "img2img")  # how a layout enters the canvas (PatchDM.compose)
STRENGTH = 0.6  # img2img's strength for a layout: 0.8 kept less of it, lower strengths keep its blur


def composition_name(name: str) -> str:
    """A composition name as the CLI and the app take it (the old "layouts" too), or ValueError."""
    name = ALIASES.get(name, name)
    if name not in COMPOSITIONS:
        raise ValueError(f"unknown composition {name!r}; choose one of {', '.join(COMPOSITIONS)}")
    return name


class LayoutSource(Protocol):
    """Anything that proposes a layout for a seed: a bank, a model, designs, a picture."""

    def layout(self, seed: int, height: int, width: int) -> Tensor: ...


def enlarge(thumb: Tensor, height: int, width: int) -> Tensor:
    """A thumbnail [1, 3, h, w] centre-cropped to the aspect of height x width and enlarged smoothly (bicubic:
    shapes and gradients, no texture)."""
    _, _, th, tw = thumb.shape
    if width * th > height * tw:  # the canvas is wider: keep the full width, fewer rows
        keep = max(2, round(tw * height / width))
        thumb = thumb[..., (th - keep) // 2 : (th - keep) // 2 + keep, :]
    else:
        keep = max(2, round(th * width / height))
        thumb = thumb[..., (tw - keep) // 2 : (tw - keep) // 2 + keep]
    return F.interpolate(thumb.float(), size=(height, width), mode="bicubic", align_corners=False).clamp(-1, 1)


def layout_of(source: object, seed: int, height: int, width: int) -> Tensor:
    """The seed's layout [1, 3, height, width] from a source with `layout` or only `thumbnail` (a LayoutModel),
    for a seed of its own (apart from the canvas's noise)."""
    own = patch_seed(seed, -3, -3)
    if hasattr(source, "layout"):
        return source.layout(own, height, width)
    return enlarge(source.thumbnail(own), height, width)


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

    def nearest(self, canvases: Tensor) -> Tensor:
        """Novelty: for each canvas [N, 3, H, W] in [-1, 1], the RMS distance (colours in [0, 1]) from its
        thumbnail at the bank's size to the nearest thumbnail of the bank or its mirror image -> [N]."""
        h, w = self.thumbs.shape[-2:]
        small = F.interpolate(canvases.float(), size=(h, w), mode="area")
        bank = torch.cat([self.thumbs, self.thumbs.flip(-1)])
        d = ((small[:, None] - bank[None]) / 2).pow(2).mean(dim=(2, 3, 4)).sqrt()
        return d.min(dim=1).values

    def layout(self, seed: int, height: int, width: int) -> Tensor:
        return enlarge(self.thumbnail(seed), height, width)


class DesignedLayouts:
    """Layouts drawn from the seed (designs.py): one family or any, in a palette by a colour rule, in the palette
    of a picture (a style reference), or in the palette of a training picture picked by the seed (`palettes`, a
    LayoutBank: real wallpapers' colours, new shapes)."""

    def __init__(
        self,
        family: str | None = None,
        picture: Image.Image | None = None,
        palettes: LayoutBank | None = None,
        texture: float = 1.0,
    ) -> None:
        if family is not None and family not in FAMILIES:
            raise ValueError(f"unknown layout family {family!r}; choose one of {', '.join(FAMILIES)}")
        self.family = family
        self.colours = None if picture is None else np.asarray(picture.convert("RGB").resize((64, 32))) / 255.0
        self.palettes = palettes
        self.texture = texture
        self.last_family: str | None = None  # what the last layout was, for the PNG parameters

    def palette(self, seed: int) -> Palette | None:
        rng = np.random.default_rng(seed + 1)  # apart from the shapes' own draws
        if self.colours is not None:
            return from_picture(self.colours, rng)
        if self.palettes is not None:
            thumb = self.palettes.thumbnail(seed)[0].permute(1, 2, 0).numpy()
            return from_picture((thumb + 1) / 2, rng)
        return None

    def layout(self, seed: int, height: int, width: int) -> Tensor:
        pal = self.palette(seed)
        rgb, self.last_family = design(seed, height, width, family=self.family, palette=pal, texture=self.texture)
        small = torch.from_numpy(rgb.transpose(2, 0, 1).copy()).float()[None] * 2 - 1
        return F.interpolate(small, size=(height, width), mode="bicubic", align_corners=False).clamp(-1, 1)


class PictureLayout:
    """The composition of a picture: the picture itself, cover-cropped to the canvas (any seed)."""

    def __init__(self, picture: Image.Image) -> None:
        self.picture = from_pil(picture.convert("RGB"))

    def layout(self, seed: int, height: int, width: int) -> Tensor:
        return enlarge(self.picture, height, width)


def bank_beside(weights: str | Path) -> Path:
    """Where a weights file's layout bank lives: WEIGHTS-layouts.png next to it."""
    weights = Path(weights)
    return weights.with_name(f"{weights.stem}-layouts.png")


def model_beside(weights: str | Path) -> Path:
    """Where a weights file's layout model lives: WEIGHTS-layout.safetensors next to it."""
    weights = Path(weights)
    return weights.with_name(f"{weights.stem}-layout.safetensors")


def sources_beside(weights: str | Path) -> tuple[dict[str, object], list[str]]:
    """The layout sources for a weights file by composition name: "designed" always, "training-layouts" (the
    bank, WEIGHTS-layouts.png) and "layout-model" (WEIGHTS-layout.safetensors) when they are there; and a line
    for each that is there but cannot be read."""
    found: dict[str, object] = {"designed": DesignedLayouts()}
    problems = []
    for name, path, load in (
        ("training-layouts", bank_beside(weights), LayoutBank.load),
        ("layout-model", model_beside(weights), load_layout_model),
    ):
        if path.is_file():
            try:
                found[name] = load(path)
            except (ValueError, CheckpointError) as exc:
                problems.append(f"{exc}; Composition: {name} is off")
    return found, problems
