"""A folder of images, decoded and resized once, served as random 2p x 2p training windows.

Each image is resized to cover the training size and centre-cropped (`crops="center"`), or, when its
aspect ratio leaves room, cut into several crops along its long side (`crops="multi"`: a 4096x4096
picture gives two 1024x512 crops). The uint8 result is kept in memory (and optionally in a .npy
cache file). A sample is a random 2p x 2p window of the image zero-padded by p/2, at a fresh
location per sample, with its grid origin, its pad mask and a downscaled global view of the image.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..model.collage import pad_half_patch
from ..runtime.pictures import crops_of, list_images, load_rgb


@dataclass
class Batch:
    x0: Tensor  # [n, 3, kp, kp] window of k x k patches of the padded image, in [-1, 1]
    mask: Tensor  # [n, 1, kp, kp] 1 inside the image, 0 in the pad ring
    origin: Tensor  # [n, 2] patch-unit centre (y, x) of the window's top-left cell
    view: Tensor  # [n, 3, vh, vw] the whole image, downscaled, for the global encoder
    index: Tensor  # [n] which stored image


class ImageFolderWindows:
    """The training set: every usable picture of a folder as uint8 [N, 3, H, W], sampled as windows."""

    def __init__(
        self,
        root: str | Path,
        image_size: tuple[int, int],
        patch_size: int,
        view_size: tuple[int, int],
        *,
        crops: str = "center",
        cache_dir: str | Path | None = None,
        hflip: bool = True,
    ) -> None:
        if crops not in ("center", "multi"):
            raise ValueError(f"crops must be 'center' or 'multi', got {crops!r}")
        h, w = image_size
        if h % patch_size or w % patch_size:
            raise ValueError(f"training size {w}x{h} is not a multiple of the patch size {patch_size}")
        self.p, self.image_size, self.view_size, self.hflip = patch_size, image_size, view_size, hflip
        files = list_images(root)
        images, self.sources = self._load(files, crops, cache_dir)
        if not len(images):
            raise ValueError(f"none of the {len(files)} files in {root} could be read")
        self.views = torch.cat([self._view(images[i : i + 16]) for i in range(0, len(images), 16)])
        self.padded = pad_half_patch(images, patch_size)  # uint8 [N, 3, H+p, W+p], zero ring

    def _load(self, files: list[Path], crops: str, cache_dir: str | Path | None) -> tuple[Tensor, list[str]]:
        key = hashlib.sha256(
            json.dumps(
                [self.image_size, crops] + [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f in files]
            ).encode()
        ).hexdigest()[:16]
        cache = Path(cache_dir) / f"images-{key}.npy" if cache_dir else None
        if cache is not None and cache.exists():
            arr = np.load(cache, allow_pickle=False)
            sources = json.loads(cache.with_suffix(".json").read_text())
            return torch.from_numpy(arr), sources
        out, sources = [], []
        for f in files:
            img = load_rgb(f)
            if img is None:
                continue
            for crop in crops_of(img, self.image_size, crops):
                out.append(crop.transpose(2, 0, 1))
                sources.append(str(f))
        arr = np.stack(out) if out else np.zeros((0, 3, *self.image_size), np.uint8)
        if cache is not None and out:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.save(cache, arr, allow_pickle=False)
            cache.with_suffix(".json").write_text(json.dumps(sources))
        return torch.from_numpy(arr), sources

    def _view(self, images: Tensor) -> Tensor:
        return F.interpolate(images.float() / 127.5 - 1, size=self.view_size, mode="area")

    def __len__(self) -> int:
        return len(self.padded)

    def image(self, i: int) -> Tensor:
        """Stored image i as [1, 3, H, W] float in [-1, 1]."""
        h = self.p // 2
        return self.padded[i : i + 1, :, h:-h, h:-h].float() / 127.5 - 1

    def to(self, device: torch.device) -> ImageFolderWindows:
        """Move the stored images (uint8) and views to a device, so sampling needs no host copies."""
        self.padded, self.views = self.padded.to(device), self.views.to(device)
        return self

    def sample(self, n: int, generator: torch.Generator, window: int = 2, offsets: str = "grid") -> Batch:
        """n windows of window x window patches from random images at random locations (one fresh location
        per sample): corners on the patch grid of the padded image (`offsets="grid"`) or at any pixel."""
        p, (h, w), dev, k = self.p, self.image_size, self.padded.device, window
        if h + p < k * p or w + p < k * p:
            raise ValueError(f"a {k}x{k}-patch training window does not fit a {w}x{h} training image")
        g = generator.device  # draws happen where the generator lives: a GPU generator needs no host copy
        idx = torch.randint(len(self), (n,), generator=generator, device=g)
        if offsets == "pixel":  # top-left pixel of the window in the (h + p) x (w + p) padded image
            sy = torch.randint(h + p - k * p + 1, (n,), generator=generator, device=g)
            sx = torch.randint(w + p - k * p + 1, (n,), generator=generator, device=g)
        else:  # top-left cell of the window on the (h/p + 1) x (w/p + 1) padded grid
            sy = torch.randint(h // p + 2 - k, (n,), generator=generator, device=g) * p
            sx = torch.randint(w // p + 2 - k, (n,), generator=generator, device=g) * p
        flip = torch.rand(n, generator=generator, device=g) < (0.5 if self.hflip else 0.0)
        rows = sy[:, None] + torch.arange(k * p, device=g)
        cols = sx[:, None] + torch.arange(k * p, device=g)
        cols = torch.where(flip[:, None], w + p - 1 - cols, cols)  # window of the mirrored padded image
        r, c = rows.to(dev), cols.to(dev)
        x0 = self.padded[idx.to(dev)[:, None, None], :, r[:, :, None], c[:, None, :]]
        x0 = x0.permute(0, 3, 1, 2).float() / 127.5 - 1
        inside = ((r >= p // 2) & (r < h + p // 2))[:, :, None] & ((c >= p // 2) & (c < w + p // 2))[:, None, :]
        x0 = x0 * inside[:, None]
        view = self.views[idx.to(dev)]
        view = torch.where(flip.to(dev)[:, None, None, None], view.flip(-1), view)
        origin = torch.stack([sy, sx], dim=1).float() / p  # patch units: fractional for pixel offsets
        return Batch(x0, inside[:, None].float(), origin.to(dev), view, idx.to(dev))


warnings.filterwarnings("ignore", "Palette images with Transparency", UserWarning)
