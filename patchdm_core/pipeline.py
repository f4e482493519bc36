"""PatchDM: the public facade that the CLI and the app use (load, generate, sample_z, encode_style)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from .checkpoint import CheckpointError, file_hash, load_into, load_weights
from .collage import round_up
from .config import PatchDMConfig
from .denoiser import CanvasDenoiser
from .guidance import Cond, cfg
from .images import from_pil, to_pil
from .inpaint import bounding_cells, feather, grow_canvas, projection, repaint_path
from .model import PatchDMModel
from .noise import patch_noise, patch_seed
from .sampler import Step, ddim_sample, run
from .schedule import Schedule
from .solvers import get_sampler, ladder

__all__ = ["PatchDM", "pick_device", "run", "to_pil", "from_pil", "CheckpointError"]


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """An explicit device, or the best available: cuda > mps > cpu."""
    if device is not None and str(device) != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def wrap_axes(tileable: bool | str) -> tuple[bool, bool]:
    """tileable True / "xy" -> wrap both axes; "x" or "y" -> one axis; False -> none."""
    if tileable is True:
        return (True, True)
    if not tileable:
        return (False, False)
    if tileable not in ("x", "y", "xy"):
        raise ValueError(f"tileable must be True, False, 'x', 'y' or 'xy', got {tileable!r}")
    return ("y" in tileable, "x" in tileable)


class PatchDM:
    def __init__(
        self,
        model: PatchDMModel,
        *,
        device: torch.device,
        name: str,
        model_hash: str,
        metadata: dict[str, str] | None = None,
    ) -> None:
        self.model = model.eval()
        self.device = device
        self.name = name
        self.model_hash = model_hash
        self.metadata = metadata or {}
        self.schedule = Schedule.linear(
            model.cfg.diffusion.timesteps, model.cfg.diffusion.beta_start, model.cfg.diffusion.beta_end
        )

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def load(
        cls, path: str | Path, device: str | torch.device | None = None, clip_weights: str | Path | None = None
    ) -> PatchDM:
        """Load a weights file (raises CheckpointError with a clear message on any problem)."""
        cfg, state, meta = load_weights(path)
        model = PatchDMModel(cfg)
        load_into(model, state, Path(path).name)
        if clip_weights is not None and hasattr(model.encoder, "load_tower"):
            model.encoder.load_tower(clip_weights)
        return cls._place(model, pick_device(device), name=cfg.name, model_hash=file_hash(path), metadata=meta)

    @classmethod
    def random_init(cls, cfg: PatchDMConfig, device: str | torch.device | None = None, seed: int = 0) -> PatchDM:
        """An untrained model (for trying the tools without weights, tests and benchmarks)."""
        torch.manual_seed(seed)
        return cls._place(PatchDMModel(cfg), pick_device(device), name=f"{cfg.name}-untrained", model_hash="untrained")

    @classmethod
    def _place(cls, model: PatchDMModel, device: torch.device, **kw) -> PatchDM:
        model = model.float().to(device)
        if device.type in ("cpu", "cuda"):
            model.unet.to(memory_format=torch.channels_last)
        return cls(model, device=device, **kw)

    @property
    def cfg(self) -> PatchDMConfig:
        return self.model.cfg

    @property
    def p(self) -> int:
        return self.cfg.patch_size

    # -- sampling ----------------------------------------------------------------------------

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
            self.model.unet,
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

    def generate(
        self,
        height: int,
        width: int,
        *,
        seed: int,
        steps: int | None = None,
        guidance: float | None = None,
        eta: float | None = None,
        z: Tensor | None = None,
        mode: str = "feature",
        tileable: bool | str = False,
        chunk: int | None = None,
        positions: str | None = None,
        stride: int | None = None,
        offload: bool | None = None,
        grid: str | None = None,
        sampler: str | None = None,
    ) -> Iterator[Step]:
        """Paint a height x width canvas; sizes off the patch grid are painted larger and centre-cropped.

        None picks the model's default (steps, guidance, eta, grid rule, sampler; `self.settings()`).
        `offload` keeps the canvas in host memory while the network runs on the GPU (None: automatic)."""
        if height < 1 or width < 1:
            raise ValueError(f"canvas size must be positive, got {width}x{height}")
        if tileable and mode != "feature":
            raise ValueError("tileable output needs the feature sampler (mode feature)")
        big_h, big_w = round_up(height, self.p), round_up(width, self.p)
        x = self.initial_noise(seed, big_h, big_w, device=self.canvas_device(big_h, big_w, offload))
        if z is None:
            z = self.default_z(seed)
        s = self.settings(steps=steps, guidance=guidance, eta=eta, grid=grid, sampler=sampler)
        den = self.denoiser(
            mode, chunk=chunk, tileable=tileable, positions=positions, stride=stride, grid=s["grid"], grid_seed=seed
        )
        eps_fn = cfg(den, self.cond(z), s["guidance"])
        gen = torch.Generator().manual_seed(patch_seed(seed, -1, -1))
        top, left = (big_h - height) // 2, (big_w - width) // 2
        solve, path = get_sampler(s["sampler"]), ladder(s["sampler"], self.schedule, s["steps"])
        for step in solve(eps_fn, x, self.schedule, path=path, eta=s["eta"], generator=gen):
            if (big_h, big_w) != (height, width):
                step.x = step.x[..., top : top + height, left : left + width]
                step.x0 = step.x0[..., top : top + height, left : left + width]
            yield step

    # -- editing: inpaint, outpaint, re-roll (see inpaint.py) -----------------------------------

    def inpaint(self, image: Tensor, keep_mask: Tensor, *, seed: int, blur: int = 8, **kw) -> Iterator[Step]:
        """Repaint where keep_mask [1,1,H,W] is 0; known pixels come back exactly outside the `blur` band.

        kw: steps, guidance, method ("fast" | "harmonized"), jump, resample, only_masked, margin, eta, z,
        mode, chunk, grid, sampler. "harmonized" defaults to jump 5, resample 5 (4.6x the evaluations of
        "fast")."""
        if keep_mask.shape[-2:] != image.shape[-2:]:
            raise ValueError(f"mask {tuple(keep_mask.shape[-2:])} does not match the picture {tuple(image.shape[-2:])}")
        return self._masked(image, feather((keep_mask < 0.5).float(), blur), seed=seed, **kw)

    def outpaint(
        self, image: Tensor, pad: tuple[int, int, int, int], *, seed: int, feather_px: int = 32, **kw
    ) -> Iterator[Step]:
        """Grow the canvas by pad = (top, right, bottom, left) px (rounded up to whole patches) and paint
        the new area; the seam is feathered `feather_px` into the old picture. The grown canvas is a
        picture of its own: positions follow the same rule as generate on it."""
        if not any(pad):
            raise ValueError("nothing to extend: give at least one side a positive extension")
        canvas, keep, (top, left) = grow_canvas(image, pad, self.p)
        noise_origin = (-(top // self.p), -(left // self.p))  # the old picture's cells keep their noise seeds
        if kw.get("z") is None:
            kw["z"] = self.encode_style(image)  # the old picture's code, not the grown canvas's
        return self._masked(canvas, feather(1 - keep, feather_px), seed=seed, noise_origin=noise_origin, **kw)

    def reroll(
        self, image: Tensor, box: tuple[int, int, int, int], *, seed: int, blur: int = 16, **kw
    ) -> Iterator[Step]:
        """Re-sample the patches under box = (x, y, w, h) with new noise from `seed`; keep the rest."""
        x, y, w, h = box
        height, width = image.shape[-2:]
        if w < 1 or h < 1 or x < 0 or y < 0 or x + w > width or y + h > height:
            raise ValueError(f"box {box} is not inside the {width}x{height} picture")
        p = self.p
        repaint = torch.zeros(1, 1, height, width, device=image.device)
        repaint[..., y // p * p : round_up(y + h, p), x // p * p : round_up(x + w, p)] = 1
        return self._masked(image, feather(repaint, blur), seed=seed, **kw)

    def _masked(
        self,
        image: Tensor,
        soft: Tensor,
        *,
        seed: int,
        steps: int | None = None,
        guidance: float | None = None,
        method: str = "fast",
        jump: int = 5,
        resample: int = 5,
        only_masked: bool = False,
        margin: int = 64,
        eta: float | None = None,
        z: Tensor | None = None,
        mode: str = "feature",
        chunk: int | None = None,
        noise_origin: tuple[int, int] = (0, 0),
        grid: str | None = None,
        sampler: str | None = None,
    ) -> Iterator[Step]:
        """Sample a canvas whose pixels with soft == 0 are known (projected every step)."""
        if method not in ("fast", "harmonized"):
            raise ValueError(f"method must be 'fast' or 'harmonized', got {method!r}")
        p, (height, width) = self.p, image.shape[-2:]
        big_h, big_w = round_up(height, p), round_up(width, p)
        pad = (0, big_w - width, 0, big_h - height)  # edge-replicated, known strip to reach whole patches
        known = (
            F.pad(image.to(self.device).float(), pad, mode="replicate") if any(pad) else image.to(self.device).float()
        )
        soft = F.pad(soft.to(self.device), pad)
        r0, r1, c0, c1 = bounding_cells(soft, p, margin) if only_masked else (0, big_h // p, 0, big_w // p)
        if not (soft > 0).any():
            raise ValueError("the mask is empty: paint the area to repaint")
        crop = (..., slice(r0 * p, r1 * p), slice(c0 * p, c1 * p))
        s = self.settings(steps=steps, guidance=guidance, eta=eta, grid=grid, sampler=sampler)
        den = self.denoiser(mode, chunk=chunk, grid=s["grid"], grid_seed=seed)
        den.window = (r0, c0, big_h // p, big_w // p)
        # Edits paint with the global code of the picture being edited (unless given one), so the new
        # area takes its palette and texture; a code sampled from the latent model would not match it.
        eps_fn = cfg(
            den,
            self.cond(z if z is not None else self.encode_style(known[..., :height, :width])),
            s["guidance"],
        )
        gen = torch.Generator().manual_seed(patch_seed(seed, -3, -3))
        levels = ladder(s["sampler"], self.schedule, s["steps"])
        path = repaint_path(levels, jump, resample) if method == "harmonized" else levels
        project = projection(self.schedule, known[crop], soft[crop], gen)
        origin = (noise_origin[0] + r0, noise_origin[1] + c0)
        x = project(self.initial_noise(seed, (r1 - r0) * p, (c1 - c0) * p, origin=origin), levels[0])
        solve = get_sampler(s["sampler"])
        for step in solve(eps_fn, x, self.schedule, path=path, eta=s["eta"], generator=gen, project=project):
            if (r0, r1, c0, c1) != (0, big_h // p, 0, big_w // p):
                step.x, step.x0 = _paste(known, step.x, crop), _paste(known, step.x0, crop)
            step.x, step.x0 = step.x[..., :height, :width], step.x0[..., :height, :width]
            yield step

    def settings(
        self,
        *,
        steps: int | None = None,
        guidance: float | None = None,
        eta: float | None = None,
        grid: str | None = None,
        sampler: str | None = None,
    ) -> dict[str, object]:
        """Sampling settings with the model's defaults (weights metadata) filled in where None."""
        d = self.cfg.sampling
        return {
            "steps": steps or d.steps,
            "guidance": d.guidance if guidance is None else guidance,
            "eta": d.eta if eta is None else eta,
            "grid": grid or d.grid,
            "sampler": sampler or d.sampler,
        }

    def default_z(self, seed: int) -> Tensor | None:
        """The latent model's code for this seed, or None (the null code) if it was never trained."""
        return self.sample_z(1, seed=seed) if self.model.latent.ready else None

    def sample_z(self, n: int, *, seed: int, steps: int = 50) -> Tensor:
        """n global codes [n, z_dim] from the latent diffusion model (DDIM, eta 0)."""
        latent = self.model.latent
        gen = torch.Generator().manual_seed(patch_seed(seed, -2, -2))
        z_t = torch.randn(n, self.cfg.unet.z_dim, generator=gen).to(self.device)
        z = run(
            ddim_sample(lambda x, t: latent(x, t), z_t, latent.schedule(), steps=steps, generator=gen, clip_x0=False)
        )
        return latent.denormalize(z)

    @torch.no_grad()
    def encode_style(self, image: Image.Image | Tensor) -> Tensor:
        """The global code [1, z_dim] of any picture, to paint 'in the style of' it."""
        x = from_pil(image) if isinstance(image, Image.Image) else image
        return self.model.encoder(x.to(self.device)).float()

    def params(self, **kw: object) -> dict[str, object]:
        """Generation parameters in A1111 order, for the PNG `parameters` chunk."""
        return {**kw, "Model": self.name, "Model hash": self.model_hash}


def _paste(canvas: Tensor, part: Tensor, crop: tuple) -> Tensor:
    out = canvas.clone()
    out[crop] = part
    return out
