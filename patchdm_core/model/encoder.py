"""Global ("semantic") encoders E(x0): the code z that every patch of an image shares.

- `CNNEncoder` (default): a small strided CNN trained jointly with the UNet on a downscaled view of
  the whole image (the paper's 256-px path).
- `ClipEncoder`: a frozen open_clip image tower, loaded from a local weights file the user names
  (nothing is downloaded), plus a trained linear projection (the paper's 1024x512 path). Only the
  projection is part of our weights file; the tower is rebuilt from the user's file when needed.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .blocks import group_norm
from .config import EncoderConfig


def global_view(images: Tensor, size: tuple[int, int]) -> Tensor:
    """[B,3,H,W] in [-1,1] -> [B,3,h,w] area-downscaled view of the whole image."""
    return F.interpolate(images.float(), size=size, mode="area")


class CNNEncoder(nn.Module):
    """Strided conv stages, GroupNorm + SiLU, global average pool, linear -> [B, z_dim]."""

    def __init__(self, cfg: EncoderConfig, z_dim: int) -> None:
        super().__init__()
        self.view_size = cfg.view_size
        layers: list[nn.Module] = []
        cin = 3
        for width in cfg.channels:
            layers += [
                nn.Conv2d(cin, width, 3, stride=2, padding=1),
                group_norm(width, 8),
                nn.SiLU(),
                nn.Conv2d(width, width, 3, padding=1),
                group_norm(width, 8),
                nn.SiLU(),
            ]
            cin = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(cin, z_dim)

    def forward(self, images: Tensor) -> Tensor:
        """Images [B,3,H,W] in [-1,1] (any size) -> z [B, z_dim]."""
        v = global_view(images, self.view_size) if tuple(images.shape[-2:]) != self.view_size else images
        return self.head(self.body(v).mean(dim=(-2, -1)))


class ClipEncoder(nn.Module):
    """Frozen open_clip image tower (not saved with our weights) + a trained projection."""

    MEAN = (0.48145466, 0.4578275, 0.40821073)
    STD = (0.26862954, 0.26130258, 0.27577711)

    def __init__(self, cfg: EncoderConfig, z_dim: int) -> None:
        super().__init__()
        self.model_name = cfg.clip_model
        self.proj = nn.Linear(cfg.clip_width, z_dim)
        self.tower: nn.Module | None = None  # set by load_tower; kept out of state_dict
        self.image_size = 224

    def load_tower(self, weights: str | Path) -> None:
        """Build the open_clip architecture offline and load the user's local weights file."""
        import open_clip  # optional dependency, only for this encoder

        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"open_clip weights file not found: {path}")
        model = open_clip.create_model(self.model_name, pretrained=None)
        state = _read_state(path)
        state = {k.removeprefix("module."): v for k, v in state.items()}
        if not any(k.startswith("visual.") for k in state):
            state = {f"visual.{k}": v for k, v in state.items()}
        visual_state = {k: v for k, v in state.items() if k.startswith("visual.")}
        missing, _ = model.load_state_dict(visual_state, strict=False)
        missing = [k for k in missing if k.startswith("visual.")]
        if missing:
            raise ValueError(f"{path.name} does not hold the {self.model_name} image tower (missing {missing[0]} ...)")
        tower = model.visual.eval().requires_grad_(False)
        size = getattr(tower, "image_size", 224)
        self.image_size = size[0] if isinstance(size, tuple | list) else int(size)
        object.__setattr__(self, "tower", tower)  # not a registered submodule: never saved, never trained
        tower.to(self.proj.weight.device)

    def forward(self, images: Tensor) -> Tensor:
        """Images [B,3,H,W] in [-1,1] -> z [B, z_dim]."""
        return self.proj(self.tower_features(images))

    @torch.no_grad()
    def tower_features(self, images: Tensor) -> Tensor:
        """Frozen tower output [B, clip_width]; the whole picture is resized to a square, not cropped."""
        if self.tower is None:
            raise RuntimeError("the open_clip tower is not loaded: pass --clip-model and --clip-weights")
        x = F.interpolate(
            (images.float() + 1) / 2, size=(self.image_size, self.image_size), mode="bicubic", align_corners=False
        ).clamp(0, 1)
        mean = torch.tensor(self.MEAN, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.STD, device=x.device).view(1, 3, 1, 1)
        self.tower.to(x.device)
        return self.tower((x - mean) / std).float()


def _read_state(path: Path) -> dict[str, Tensor]:
    """Read a state dict from safetensors, or from a torch file with weights_only=True (never pickle)."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    obj = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    return obj


def build_encoder(cfg: EncoderConfig, z_dim: int) -> nn.Module:
    if cfg.kind == "cnn":
        return CNNEncoder(cfg, z_dim)
    if cfg.kind == "clip":
        return ClipEncoder(cfg, z_dim)
    raise ValueError(f"unknown encoder kind {cfg.kind!r}")
