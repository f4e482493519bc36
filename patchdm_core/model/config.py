"""Frozen configuration dataclasses and the presets tiny(), demo() and paper().

Every field carries a trailing comment; a whole PatchDMConfig round-trips through JSON so that a
weights file describes itself (the JSON lives in the safetensors metadata).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal


def _require(where: str, checks: dict[str, tuple[object, bool, str]]) -> None:
    """ValueError naming the first field whose value is not what it must be: {field: (value, ok, expected)}.
    Weights files carry their config as JSON, so every field is checked by value, not only by type."""
    for field_name, (value, ok, expected) in checks.items():
        if not ok:
            raise ValueError(f"{where} {field_name} must be {expected}, got {value!r}")


def _number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _interval(x: object) -> bool:
    return isinstance(x, tuple) and len(x) == 2 and all(_count(v, 0, 999) for v in x) and x[0] <= x[1]


def _count(x: object, lo: int = 1, hi: int = 1 << 20) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and lo <= x <= hi


@dataclass(frozen=True)
class UNetConfig:
    patch_size: int = 64  # p: side of a patch in pixels; the canvas grid is p x p
    in_channels: int = 3  # RGB
    model_channels: int = 64  # width of the first level
    channel_mult: tuple[int, ...] = (1, 2, 4, 8)  # width multiplier per level (each level halves the side)
    res_blocks: int = 2  # res blocks per encoder level; the decoder has res_blocks + 1 (ADM)
    attn_resolutions: tuple[int, ...] = (16,)  # feature-map sides (px) that get self-attention
    mid_attention: bool = True  # self-attention in the middle block
    num_heads: int = 1  # attention heads (official: 1)
    time_dim: int = 256  # width of the timestep embedding
    pos_dim: int = 256  # width of the position embedding; ResBlocks see time_dim + pos_dim
    z_dim: int = 512  # width of the global ("semantic") code z
    dropout: float = 0.1  # dropout inside ResBlocks (training only)
    norm_groups: int = 32  # GroupNorm groups (clamped to the channel count)

    def __post_init__(self) -> None:
        mult = self.channel_mult
        levels = len(mult) if isinstance(mult, tuple) else 0
        side = 2**levels
        _require(
            "unet",
            {
                "channel_mult": (mult, levels > 0 and all(_count(m, 1, 64) for m in mult), "positive whole numbers"),
                "patch_size": (
                    self.patch_size,
                    _count(self.patch_size, 2, 4096) and self.patch_size % side == 0,
                    f"a whole number of pixels divisible by {side} (it halves at every level)",
                ),
                "model_channels": (self.model_channels, _count(self.model_channels, 1, 4096), "1 to 4096"),
                "res_blocks": (self.res_blocks, _count(self.res_blocks, 1, 64), "1 to 64"),
                "num_heads": (self.num_heads, _count(self.num_heads, 1, 256), "1 to 256"),
                "time_dim": (self.time_dim, _count(self.time_dim, 2) and self.time_dim % 2 == 0, "an even count"),
                "pos_dim": (self.pos_dim, _count(self.pos_dim, 2) and self.pos_dim % 2 == 0, "an even count"),
                "z_dim": (self.z_dim, _count(self.z_dim), "a positive count"),
                "norm_groups": (self.norm_groups, _count(self.norm_groups), "a positive count"),
                "dropout": (self.dropout, _number(self.dropout) and 0 <= self.dropout < 1, "in [0, 1)"),
            },
        )

    @property
    def emb_dim(self) -> int:
        return self.time_dim + self.pos_dim

    @property
    def levels(self) -> int:
        return len(self.channel_mult)


@dataclass(frozen=True)
class DiffusionConfig:
    timesteps: int = 1000  # T
    beta_start: float = 1e-4  # linear schedule (DDPM), as the official code
    beta_end: float = 0.02
    prediction: Literal["eps", "v"] = "eps"  # network target: noise (official), or v = sqrt(a) eps - sqrt(1-a) x0

    def __post_init__(self) -> None:
        b0, b1 = self.beta_start, self.beta_end
        _require(
            "diffusion",
            {
                "timesteps": (self.timesteps, _count(self.timesteps, 1, 100_000), "1 to 100000"),
                "beta_start": (b0, _number(b0) and 0 < b0 < 1, "in (0, 1)"),
                "beta_end": (b1, _number(b1) and _number(b0) and b0 <= b1 < 1, "in [beta_start, 1)"),
                "prediction": (self.prediction, self.prediction in ("eps", "v"), "'eps' or 'v'"),
            },
        )


@dataclass(frozen=True)
class EncoderConfig:
    kind: Literal["cnn", "clip"] = "cnn"  # jointly trained CNN, or frozen open_clip tower + projection
    view_size: tuple[int, int] = (128, 256)  # (H, W) of the downscaled global view the CNN sees
    channels: tuple[int, ...] = (32, 64, 128, 256)  # CNN widths, one stride-2 stage each
    clip_model: str = ""  # open_clip architecture name (kind == "clip"), e.g. "ViT-B-16"
    clip_width: int = 512  # output width of the open_clip image tower


@dataclass(frozen=True)
class LatentConfig:
    layers: int = 10  # MLP depth (official: 10 with the input re-concatenated)
    width: int = 2048  # hidden width (official: 2048)
    timesteps: int = 1000  # T of the latent diffusion
    beta: float = 0.008  # constant beta schedule (official "const0.008")

    def __post_init__(self) -> None:
        _require(
            "latent",
            {
                "layers": (self.layers, _count(self.layers, 1, 256), "1 to 256"),
                "width": (self.width, _count(self.width, 1, 1 << 16), "a positive count"),
                "timesteps": (self.timesteps, _count(self.timesteps, 1, 100_000), "1 to 100000"),
                "beta": (self.beta, _number(self.beta) and 0 < self.beta < 1, "in (0, 1)"),
            },
        )


@dataclass(frozen=True)
class TrainConfig:
    image_size: tuple[int, int] = (512, 1024)  # (H, W) training images are resized/cropped to
    crops: Literal["center", "multi"] = "center"  # one centred crop per picture, or several along its long side
    hflip: bool = True  # mirror whole pictures (and their global view) half of the time
    batch_size: int = 32  # 2p x 2p windows per step (per process)
    lr: float = 1e-4  # AdamW learning rate
    weight_decay: float = 0.0
    ema_decay: float = 0.9999  # EMA of the weights, updated every step (weights.safetensors)
    # further EMA decays kept beside it, each written to weights-ema<decay>.safetensors: which decay
    # paints best depends on the run's length and learning rate, so the eval picks one afterwards
    ema_extra: tuple[float, ...] = ()
    grad_clip: float = 1.0  # global gradient-norm clip
    p_drop_z: float = 0.1  # classifier-free dropout of the global code
    p_drop_pos: float = 0.5  # classifier-free dropout of the position (independent)
    t_min: int = 0  # timesteps are drawn from [t_min, t_max): > 0 focuses a fine-tune on high noise
    t_max: int = 0  # 0 = T; below T focuses a fine-tune on low noise (the fine detail)
    freeze_encoder: bool = False  # keep the global encoder as it is: the latent prior's codes stay valid
    # Seam-aware windows: `window` patches per side (2 = the paper: one collaged cell, no collaged border
    # supervised; 3 = 2x2 collaged cells, so the borders between collaged cells that inference creates
    # are in the loss); `offsets` "grid" puts window corners on the patch grid, "pixel" anywhere.
    window: int = 2
    offsets: Literal["grid", "pixel"] = "grid"
    min_snr_gamma: float = 0.0  # > 0: min-SNR-gamma loss weights (Hang et al. 2023; 5 is their choice)
    log_every: int = 50  # steps between log lines
    sample_every: int = 1000  # steps between sample grids
    save_every: int = 1000  # steps between checkpoints
    latent_steps: int = 20000  # train-latent default steps
    latent_batch: int = 256  # train-latent batch size

    def __post_init__(self) -> None:
        if self.t_max and self.t_max <= self.t_min:
            raise ValueError(f"t_max ({self.t_max}) must be above t_min ({self.t_min}), or 0 for all timesteps")
        if self.window not in (2, 3, 4) or self.offsets not in ("grid", "pixel") or not self.min_snr_gamma >= 0:
            raise ValueError(
                f"train window must be 2, 3 or 4 patches, offsets grid or pixel, min_snr_gamma >= 0; got "
                f"{self.window}, {self.offsets!r}, {self.min_snr_gamma}"
            )
        decays = (self.ema_decay, *self.ema_extra)
        if not all(0.0 <= d < 1.0 for d in decays) or len(set(decays)) != len(decays):
            raise ValueError(f"EMA decays must be distinct and in [0, 1), got {list(decays)}")


SAMPLER_NAMES = ("ddim", "dpmpp-2m", "dpmpp-3m", "unipc")  # sampling/solvers.SAMPLERS (a test keeps them equal)


@dataclass(frozen=True)
class SamplingConfig:
    steps: int = 50  # default number of model evaluations (solver steps)
    guidance: float = 1.5  # default classifier-free guidance scale (official w=0.5 -> 1.5)
    positions: Literal["absolute", "stretch"] = "stretch"  # how positions map on canvases != train size
    grid: Literal["fixed", "alternate", "random"] = "fixed"  # feature mode: where the cell lattice sits per step
    sampler: Literal["ddim", "dpmpp-2m", "dpmpp-3m", "unipc"] = "ddim"  # solver (official: DDIM)
    eta: float = 0.0  # stochasticity: DDIM eta, or the SDE share of DPM-Solver++(2M); 0 = deterministic
    guidance_interval: tuple[int, int] = (0, 999)  # timesteps lo..hi that get guidance; one pass elsewhere
    ladder_end: int = 0  # multistep solvers: the lowest level evaluated (then one step into the clean end)

    def __post_init__(self) -> None:
        for name, allowed in (("grid", ("fixed", "alternate", "random")), ("sampler", SAMPLER_NAMES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"sampling {name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        _require(
            "sampling",
            {
                "steps": (self.steps, _count(self.steps, 1, 1000), "1 to 1000"),
                "guidance": (self.guidance, _number(self.guidance) and 0 <= self.guidance <= 20, "a number in [0, 20]"),
                "eta": (self.eta, _number(self.eta) and 0 <= self.eta <= 1, "a number in [0, 1]"),
                "positions": (self.positions, self.positions in ("absolute", "stretch"), "'absolute' or 'stretch'"),
                "ladder_end": (self.ladder_end, _count(self.ladder_end, 0, 500), "a whole timestep in 0..500"),
                "guidance_interval": (
                    self.guidance_interval,
                    _interval(self.guidance_interval),
                    "two whole timesteps lo <= hi in 0..999",
                ),
            },
        )

    @classmethod
    def migrate(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Older weights said `alternate: bool`; it is the grid rule "alternate" now."""
        data = dict(data)
        if "alternate" in data:
            alternate = data.pop("alternate")
            data.setdefault("grid", "alternate" if alternate else "fixed")
        return data


@dataclass(frozen=True)
class PatchDMConfig:
    name: str = "patchdm"  # model name written into PNG metadata
    unet: UNetConfig = field(default_factory=UNetConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    latent: LatentConfig = field(default_factory=LatentConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)

    @property
    def patch_size(self) -> int:
        return self.unet.patch_size

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PatchDMConfig:
        return _from_dict(cls, json.loads(text))

    def replace(self, **parts: Any) -> PatchDMConfig:
        return dataclasses.replace(self, **parts)


def _from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Build a (nested) frozen dataclass from a dict; unknown keys are an error, missing ones default."""
    if not isinstance(data, dict):  # a config written by hand or damaged: a list, a number, a string
        raise ValueError(f"{cls.__name__} must be a JSON object, got {type(data).__name__}")
    if hasattr(cls, "migrate"):
        data = cls.migrate(data)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields: {sorted(unknown)}")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        sub = _NESTED.get((cls, key))
        if sub is not None:
            kwargs[key] = _from_dict(sub, value)
        elif isinstance(value, list):
            kwargs[key] = tuple(value)
        else:
            kwargs[key] = value
    return cls(**kwargs)


_NESTED = {
    (PatchDMConfig, "unet"): UNetConfig,
    (PatchDMConfig, "diffusion"): DiffusionConfig,
    (PatchDMConfig, "encoder"): EncoderConfig,
    (PatchDMConfig, "latent"): LatentConfig,
    (PatchDMConfig, "train"): TrainConfig,
    (PatchDMConfig, "sampling"): SamplingConfig,
}
