"""Painter: what turns a trained patch network into pictures, for generate and for every editing tool.

It holds the network, the global encoder (for the code of a picture) and the model's sampling defaults;
per job it builds the canvas denoiser, the guided eps function and the seeded per-patch noise, and
`paint` runs a solver over a canvas from any level of the solver's ladder. The editing layer is plain
functions of a Painter; the PatchDM facade owns one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from ..model.config import PatchDMConfig
from ..model.schedule import Schedule
from ..model.unet import PatchUNet
from ..runtime.filters import gaussian_blur, resample_periodic
from ..runtime.images import from_pil
from ..runtime.sizes import round_up
from .denoiser import CanvasDenoiser
from .guidance import Cond, cfg
from .noise import patch_noise, patch_seed
from .solvers import EpsFn, Step, X0Fn, get_sampler, ladder


def wrap_axes(tileable: bool | str) -> tuple[bool, bool]:
    """tileable True / "xy" -> wrap both axes; "x" or "y" -> one axis; False -> none."""
    if tileable is True:
        return (True, True)
    if not tileable:
        return (False, False)
    if tileable not in ("x", "y", "xy"):
        raise ValueError(f"tileable must be True, False, 'x', 'y' or 'xy', got {tileable!r}")
    return ("y" in tileable, "x" in tileable)


def check_canvas(height: int, width: int, mode: str, tileable: bool | str) -> None:
    """A paintable canvas request, or ValueError with a sentence for the user."""
    if height < 1 or width < 1:
        raise ValueError(f"canvas size must be positive, got {width}x{height}")
    if tileable and mode != "feature":
        raise ValueError("tileable output needs the feature sampler (mode feature)")


SETTINGS = (
    "steps",
    "guidance",
    "eta",
    "grid",
    "sampler",
    "guidance_interval",
    "ladder_end",
)  # Painter.settings(...) keys


@dataclass
class Painter:
    unet: PatchUNet
    encoder: nn.Module  # E(x0): the global code of a picture
    schedule: Schedule
    cfg: PatchDMConfig  # the whole model's config: patch size, training frame, sampling defaults
    device: torch.device

    @property
    def p(self) -> int:
        return self.cfg.patch_size

    def grid_size(self, height: int, width: int, tileable: bool | str = False) -> tuple[int, int]:
        """The whole-patch canvas (H, W) a height x width picture is painted on: the next multiple of the patch
        size (fit crops its centre), or, on a wrapped axis, the nearest one, up on a tie (fit resamples it with
        wrap-around: a crop would cut the tile's period, and its two ends would no longer meet)."""
        wrap = wrap_axes(tileable)
        return tuple(
            max(self.p, (n + self.p // 2) // self.p * self.p) if wrapped else round_up(n, self.p)
            for n, wrapped in zip((height, width), wrap)
        )

    def fit(self, x: Tensor, size: tuple[int, int], tileable: bool | str = False, final: bool = True) -> Tensor:
        """A canvas from grid_size back to `size` = (height, width): centre-cropped along open axes, resampled
        along wrapped ones (only when `final`: a preview is cropped, which is cheaper and looks the same)."""
        for dim, (n, wrapped) in zip((-2, -1), zip(size, wrap_axes(tileable))):
            if x.shape[dim] == n:
                continue
            if wrapped and final:
                x = resample_periodic(x, n, dim)
            else:
                start = max(0, (x.shape[dim] - n) // 2)
                x = x.narrow(dim, start, min(n, x.shape[dim]))
        return x

    @torch.no_grad()
    def preview(self, step: Step, max_side: int = 768) -> Tensor:
        """The predicted clean picture of a step, at most max_side px, blurred by what the model cannot
        resolve yet: at high noise each patch's x0 is little more than its mean colour, so a plain x0 shows a
        blocky grid that the finished picture will not have. The blur's radius, (p / 2) (1 - alpha_bar)^2 px
        at full size, is half a patch at the first steps and nothing at the end."""
        x = step.x0.float()
        h, w = x.shape[-2:]
        scale = min(1.0, max_side / max(h, w))
        if scale < 1:
            x = F.interpolate(x, size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="area")
        if step.t >= 0:
            noise = 1 - float(self.schedule.alphas_cumprod[step.t])
            radius = round(self.p / 2 * noise**2 * scale)
            if radius > 0 and min(x.shape[-2:]) > 2 * radius:
                x = gaussian_blur(x, radius)
        return x.clamp(-1, 1)

    def settings(
        self,
        *,
        steps: int | None = None,
        guidance: float | None = None,
        eta: float | None = None,
        grid: str | None = None,
        sampler: str | None = None,
        guidance_interval: tuple[int, int] | None = None,
        ladder_end: int | None = None,
    ) -> dict[str, object]:
        """Sampling settings with the model's defaults (weights metadata) filled in where None."""
        d = self.cfg.sampling
        return {
            "steps": steps or d.steps,
            "guidance": d.guidance if guidance is None else guidance,
            "eta": d.eta if eta is None else eta,
            "grid": grid or d.grid,
            "sampler": sampler or d.sampler,
            "guidance_interval": tuple(guidance_interval or d.guidance_interval),
            "ladder_end": d.ladder_end if ladder_end is None else ladder_end,
        }

    def levels(self, s: dict) -> list[int]:
        """The descending levels settings `s` evaluate (solvers.ladder)."""
        return ladder(s["sampler"], self.schedule, s["steps"], s.get("ladder_end", 0))

    def guided(self, den: CanvasDenoiser, z: Tensor | None, s: dict) -> EpsFn:
        """The eps function of settings `s` on a denoiser: guidance at its scale, in its interval."""
        return cfg(den, self.cond(z), s["guidance"], s.get("guidance_interval"))

    def default_chunk(self) -> int:
        """Patches per network call: 64 on the CPU, more on a GPU with free memory."""
        if self.device.type != "cuda":
            return 64
        free, _ = torch.cuda.mem_get_info(self.device)
        per_patch = 12 * sum(self.cfg.unet.channel_mult) * self.cfg.unet.model_channels * self.p**2 * 4
        return int(max(64, min(4096, free * 0.5 // per_patch)))

    def denoiser(
        self,
        mode: str = "feature",
        *,
        chunk: int | None = None,
        tileable: bool | str = False,
        positions: str | None = None,
        stride: int | None = None,
        grid: str | None = None,
        grid_seed: int = 0,
    ) -> CanvasDenoiser:
        tr = self.cfg.train.image_size
        return CanvasDenoiser(
            self.unet,
            mode=mode,
            chunk=chunk or self.default_chunk(),
            stride=stride,
            wrap=wrap_axes(tileable),
            positions=positions or self.cfg.sampling.positions,
            train_grid=(tr[0] // self.p, tr[1] // self.p),
            prediction=self.cfg.diffusion.prediction,
            schedule=self.schedule,
            grid=grid or self.cfg.sampling.grid,
            grid_seed=grid_seed,
        )

    def cond(self, z: Tensor | None, batch: int = 1) -> Cond:
        return Cond.make(z, batch, self.cfg.unet.z_dim, self.device)

    @torch.no_grad()
    def encode_style(self, image: Image.Image | Tensor) -> Tensor:
        """The global code [1, z_dim] of any picture, to paint 'in the style of' it."""
        x = from_pil(image) if isinstance(image, Image.Image) else image
        return self.encoder(x.to(self.device)).float()

    def canvas_device(self, height: int, width: int, offload: bool | None = None) -> torch.device:
        """Where canvas-sized tensors live: the model's device, or host memory for huge canvases on a GPU
        (offload None = automatic: when eight canvas copies would take over a quarter of free GPU memory).
        The network then receives bands of patches and returns eps bands (CanvasDenoiser)."""
        if self.device.type != "cuda" or offload is False:
            return self.device
        if offload:
            return torch.device("cpu")
        free, _ = torch.cuda.mem_get_info(self.device)
        return torch.device("cpu") if 8 * 3 * height * width * 4 > free / 4 else self.device

    def initial_noise(
        self, seed: int, height: int, width: int, origin: tuple[int, int] = (0, 0), device: torch.device | None = None
    ) -> Tensor:
        """Per-patch noise for a canvas of whole patches (see noise.patch_noise), drawn on the CPU."""
        return patch_noise(seed, height // self.p, width // self.p, self.p, origin=origin, device=device or self.device)

    def paint(
        self,
        x: Tensor,
        size: tuple[int, int],
        *,
        seed: int,
        z: Tensor | None,
        s: dict,
        start: int = 0,
        mode: str = "feature",
        tileable: bool | str = False,
        chunk: int | None = None,
        positions: str | None = None,
        stride: int | None = None,
        x0_fn: X0Fn | None = None,
    ) -> Iterator[Step]:
        """Denoise the whole-patch canvas x (at level `start` of the solver's ladder) with settings `s`,
        yielding Steps fitted to `size` = (height, width) (see fit); `x0_fn` steers every prediction."""
        den = self.denoiser(
            mode, chunk=chunk, tileable=tileable, positions=positions, stride=stride, grid=s["grid"], grid_seed=seed
        )
        eps_fn = self.guided(den, z, s)
        gen = torch.Generator().manual_seed(patch_seed(seed, -1, -1))
        solve, path = get_sampler(s["sampler"]), self.levels(s)[start:]
        for step in solve(eps_fn, x, self.schedule, path=path, eta=s["eta"], generator=gen, x0_fn=x0_fn):
            if tuple(x.shape[-2:]) != tuple(size):
                step.x = self.fit(step.x, size, tileable, final=step.t < 0)
                step.x0 = step.x if step.t < 0 else self.fit(step.x0, size, tileable, final=False)
            yield step
