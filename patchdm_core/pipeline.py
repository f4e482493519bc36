"""PatchDM: the public facade that the CLI and the app use (load, generate, sample_z, encode_style)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from .editing.edits import Editing
from .editing.img2img import check_canvas
from .editing.steering import Steering
from .model.config import PatchDMConfig
from .model.patchdm import PatchDMModel
from .model.schedule import Schedule
from .model.weights import CheckpointError, file_hash, load_into, load_weights
from .runtime.devices import pick_device
from .runtime.images import from_pil, to_pil
from .runtime.sizes import round_up
from .sampling.denoiser import CanvasDenoiser
from .sampling.guidance import Cond, cfg
from .sampling.noise import patch_noise, patch_seed
from .sampling.solvers import Step, ddim_sample, get_sampler, ladder, run

__all__ = ["PatchDM", "pick_device", "run", "to_pil", "from_pil", "CheckpointError"]


def wrap_axes(tileable: bool | str) -> tuple[bool, bool]:
    """tileable True / "xy" -> wrap both axes; "x" or "y" -> one axis; False -> none."""
    if tileable is True:
        return (True, True)
    if not tileable:
        return (False, False)
    if tileable not in ("x", "y", "xy"):
        raise ValueError(f"tileable must be True, False, 'x', 'y' or 'xy', got {tileable!r}")
    return ("y" in tileable, "x" in tileable)


class PatchDM(Editing, Steering):
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
        check_canvas(height, width, mode, tileable)
        big_h, big_w = round_up(height, self.p), round_up(width, self.p)
        x = self.initial_noise(seed, big_h, big_w, device=self.canvas_device(big_h, big_w, offload))
        s = self.settings(steps=steps, guidance=guidance, eta=eta, grid=grid, sampler=sampler)
        kw = dict(mode=mode, tileable=tileable, chunk=chunk, positions=positions, stride=stride)
        yield from self._paint(x, (height, width), seed=seed, z=self.default_z(seed) if z is None else z, s=s, **kw)

    def _paint(
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
    ) -> Iterator[Step]:
        """Denoise the whole-patch canvas x (at level `start` of the solver's ladder) with settings `s`,
        yielding Steps centre-cropped to `size`."""
        (height, width), (big_h, big_w) = size, x.shape[-2:]
        den = self.denoiser(
            mode, chunk=chunk, tileable=tileable, positions=positions, stride=stride, grid=s["grid"], grid_seed=seed
        )
        eps_fn = cfg(den, self.cond(z), s["guidance"])
        gen = torch.Generator().manual_seed(patch_seed(seed, -1, -1))
        top, left = (big_h - height) // 2, (big_w - width) // 2
        solve, path = get_sampler(s["sampler"]), ladder(s["sampler"], self.schedule, s["steps"])[start:]
        for step in solve(eps_fn, x, self.schedule, path=path, eta=s["eta"], generator=gen):
            if (big_h, big_w) != (height, width):
                step.x = step.x[..., top : top + height, left : left + width]
                step.x0 = step.x0[..., top : top + height, left : left + width]
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
