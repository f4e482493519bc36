"""The layout model: a small whole-picture diffusion model over thumbnails of wallpapers (32x16 by default), the
composition stage in front of the patch model (composition/sources.py;
the pipeline paints its sample at full size).

The patch model sees 64-px patches and a global code that carries little of where things are, so it paints
colour fields. A thumbnail holds what it misses: a sky over a field, a band across, one large form. The
thumbnails are tiny (3 x 16 x 32 by default), so an ADM-style UNet of a few million parameters learns them
on a CPU in half an hour, and sampling one costs about a second. It is unconditional: the img2img that paints it takes
the layout's own global code, so the palette and the layout come from the same picture.

Its weights are a file of their own (WEIGHTS-layout.safetensors beside the patch model's; fp16), format
`patchdm-layout/1` with this config as JSON in the metadata; every failure to read one is a CheckpointError.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from .blocks import Emb, ResBlock, group_norm, sinusoidal, zero_module
from .schedule import Schedule
from .weights import CheckpointError, write_safetensors

FORMAT = "patchdm-layout/1"


@dataclass(frozen=True)
class LayoutConfig:
    # (h, w) of a layout, 2:1 as the default canvas. 32x16 rather than 64x32: a quarter of the work per step,
    # and at equal CPU time (30 min) its samples were cleaner shapes where 64x32's were noisy (weights/README.md)
    thumb: tuple[int, int] = (16, 32)
    channels: int = 32  # width of the first level
    mult: tuple[int, ...] = (1, 2, 4)  # per level; 16x32 -> 8x16 -> 4x8
    res_blocks: int = 1  # 3.0 M parameters, 0.47 GFLOP a thumbnail: ~0.5 s a step of 32 on 2 CPU cores
    attn_heights: tuple[int, ...] = (8,)  # map heights with self-attention (and the middle block)
    heads: int = 2
    time_dim: int = 128
    groups: int = 8
    timesteps: int = 1000

    def __post_init__(self) -> None:
        side = 2 ** (len(self.mult) - 1)
        h, w = self.thumb
        if not (h > 0 and w > 0 and h % side == 0 and w % side == 0):
            raise ValueError(f"layout thumb {w}x{h} must be divisible by {side} ({len(self.mult)} levels)")
        if min(self.channels, self.res_blocks, self.heads, self.time_dim, self.groups, *self.mult) < 1:
            raise ValueError("layout config: channels, res_blocks, heads, time_dim, groups and mult must be positive")
        if (self.channels * min(self.mult)) % self.heads or self.time_dim % 2:
            raise ValueError("layout config: the heads must divide every width and time_dim must be even")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> LayoutConfig:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError(f"layout config must be a JSON object, got {type(raw).__name__}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})


class LayoutUNet(nn.Module):
    """v(x_t, t) for whole thumbnails [N, 3, h, w]: the patch UNet's ResBlocks, conditioned on time alone.

    The blocks' global-code slot gets a constant 1 (z_dim 1), which makes its projection a learned
    per-channel gain: the same block as the patch model's, without a code this model does not have."""

    def __init__(self, cfg: LayoutConfig) -> None:
        super().__init__()
        self.cfg = cfg
        widths = [cfg.channels * m for m in cfg.mult]

        def block(cin: int, cout: int, height: int, **kw) -> ResBlock:
            attention = kw.pop("attention", height in cfg.attn_heights)
            return ResBlock(cin, cout, cfg.time_dim, 1, groups=cfg.groups, heads=cfg.heads, attention=attention, **kw)

        self.time_mlp = nn.Sequential(nn.Linear(64, cfg.time_dim), nn.SiLU(), nn.Linear(cfg.time_dim, cfg.time_dim))
        self.stem = nn.Conv2d(3, widths[0], 3, padding=1)
        self.enc = nn.ModuleList()
        skips, cin, height = [widths[0]], widths[0], cfg.thumb[0]
        for level, width in enumerate(widths):
            for _ in range(cfg.res_blocks):
                self.enc.append(block(cin, width, height))
                cin = width
                skips.append(cin)
            if level < len(widths) - 1:
                self.enc.append(block(cin, cin, height, resample="down", attention=False))
                height //= 2
                skips.append(cin)
        self.mid = nn.ModuleList([block(cin, cin, height, attention=True), block(cin, cin, height, attention=False)])
        self.dec = nn.ModuleList()
        self.takes_skip: list[bool] = []
        for level, width in reversed(list(enumerate(widths))):
            for _ in range(cfg.res_blocks + 1):
                self.dec.append(block(cin + skips.pop(), width, height))
                self.takes_skip.append(True)
                cin = width
            if level > 0:
                self.dec.append(block(cin, cin, height, resample="up", attention=False))
                self.takes_skip.append(False)
                height *= 2
        self.out = nn.Sequential(group_norm(cin, cfg.groups), nn.SiLU(), zero_module(nn.Conv2d(cin, 3, 3, padding=1)))

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        """x [N, 3, h, w] noisy thumbnails, t [N] -> v [N, 3, h, w]."""
        tp = nn.functional.silu(self.time_mlp(sinusoidal(t, 64)))
        emb = Emb(tp, torch.ones(len(x), 1, device=x.device, dtype=tp.dtype))
        h = self.stem(x)
        skips = [h]
        for blk in self.enc:
            h = blk(h, emb)
            skips.append(h)
        for blk in self.mid:
            h = blk(h, emb)
        for blk, takes in zip(self.dec, self.takes_skip):
            h = blk(torch.cat([h, skips.pop()], dim=1) if takes else h, emb)
        return self.out(h)


def layout_schedule(cfg: LayoutConfig) -> Schedule:
    """The layout model's noise schedule: DDPM's linear betas over cfg.timesteps (v-prediction)."""
    return Schedule.linear(cfg.timesteps)


class LayoutModel:
    """A trained LayoutUNet with its schedule (linear betas, v-prediction) and a DDIM sampler."""

    def __init__(self, net: LayoutUNet, metadata: dict[str, str] | None = None) -> None:
        self.net = net.eval().requires_grad_(False)
        self.cfg = net.cfg
        self.schedule = layout_schedule(net.cfg)
        self.metadata = dict(metadata or {})

    @torch.no_grad()
    def sample(self, noise: Tensor, steps: int = 50) -> Tensor:
        """Thumbnails [N, 3, h, w] in [-1, 1] from Gaussian noise of that shape: deterministic DDIM (eta 0),
        the clean estimate clipped to [-1, 1] at every step."""
        s = self.schedule
        x = noise.float()
        ts = s.ddim_timesteps(steps)
        for i, t in enumerate(ts):
            v = self.net(x, torch.full((len(x),), t, dtype=torch.long))
            x0 = s.predict_x0(x, t, s.eps_from_v(x, t, v)).clamp(-1, 1)
            eps = s.predict_eps(x, t, x0)
            nxt = ts[i + 1] if i + 1 < len(ts) else -1
            x = s.q_sample(x0, nxt, eps)
        return x.clamp(-1, 1)

    def thumbnail(self, seed: int, steps: int = 50) -> Tensor:
        """The seed's layout [1, 3, h, w]: the same seed, the same layout."""
        gen = torch.Generator().manual_seed(int(seed))
        return self.sample(torch.randn(1, 3, *self.cfg.thumb, generator=gen), steps)


def save_layout_model(path: str | Path, net: LayoutUNet, metadata: dict[str, str] | None = None) -> Path:
    """Write the net's weights atomically in fp16 (half the file; layouts do not need more), with the config and
    `metadata`. They are read back into fp32."""
    meta = {"format": FORMAT, "config": net.cfg.to_json(), **(metadata or {})}
    return write_safetensors(path, net, meta, torch.float16)


def load_layout_model(path: str | Path) -> LayoutModel:
    """Read a file written by save_layout_model, or raise CheckpointError with one line."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"layout model not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k).float() for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"cannot read the layout model {path}: {exc}") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a layout model (format {meta.get('format')!r}, want {FORMAT!r})")
    try:
        net = LayoutUNet(LayoutConfig.from_json(meta["config"]))
        net.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: its config does not match its tensors ({str(exc).splitlines()[0]})") from None
    return LayoutModel(net, {k: v for k, v in meta.items() if k not in ("format", "config")})
