"""PatchDM: the public facade that the CLI and the app use (load, generate, edit, steer, sample_z, encode_style).

It owns the model and its Painter (sampling/painter.py), samples global codes from the latent prior, and
runs the editing functions (editing/) on its painter; nothing below it knows it exists.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from .composition.sources import HOWS, LayoutSource, layout_of
from .composition.sources import STRENGTH as LAYOUT_STRENGTH
from .editing import edits, steering
from .model.config import PatchDMConfig
from .model.patchdm import PatchDMModel
from .model.schedule import Schedule
from .model.weights import CheckpointError, file_hash, load_into, load_weights
from .runtime.devices import pick_device
from .runtime.images import from_pil, to_pil
from .sampling.compiled import compile_network
from .sampling.noise import patch_seed
from .sampling.painter import Painter, check_canvas
from .sampling.palette import STRENGTH as PALETTE_STRENGTH
from .sampling.palette import PaletteSteer
from .sampling.solvers import Step, ddim_sample, run
from .sampling.structure import Structure, chain

STRUCTURE = Structure()  # the default structure guidance (sampling/structure.py)

__all__ = ["PatchDM", "pick_device", "run", "to_pil", "from_pil", "CheckpointError"]


def _on_painter(fn: Callable) -> Callable:
    """A PatchDM method that runs `fn(painter, ...)` on this model's painter: same options, same doc (and
    inspect.signature shows fn's own parameters)."""

    @functools.wraps(fn)
    def method(self: PatchDM, *args, **kw):
        return fn(self.painter, *args, **kw)

    return method


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
        diffusion = model.cfg.diffusion
        self.schedule = Schedule.linear(diffusion.timesteps, diffusion.beta_start, diffusion.beta_end)
        self.painter = Painter(model.unet, model.encoder, self.schedule, model.cfg, device)

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

    # -- painting and editing (sampling/painter.py, editing/) ----------------------------------------

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
        guidance_interval: tuple[int, int] | None = None,
        ladder_end: int | None = None,
        palette: Tensor | Image.Image | None = None,
        palette_strength: float = PALETTE_STRENGTH,
        layout: Tensor | None = None,
        structure: Structure = STRUCTURE,
        layout_weight: Tensor | None = None,
    ) -> Iterator[Step]:
        """Paint a height x width canvas; sizes off the patch grid are painted on whole patches and fitted back
        (Painter.grid_size: centre-cropped, or resampled with wrap-around on a tileable axis). `palette` (a
        picture, or [1, 3, h, w] in [-1, 1]) steers the canvas's colours towards its own by `palette_strength`
        in [0, 1] (sampling/palette.py): `--style` passes its picture here and its global code as `z`. `layout`
        ([1, 3, h, w] in [-1, 1], any size) gives the canvas its large shapes by structure guidance (`structure`:
        band, strength, t_stop; sampling/structure.py), where `layout_weight` [1, 1, h, w] is not 0.

        None picks the model's default (steps, guidance and its interval, eta, grid rule, sampler; `settings()`);
        without `z` the latent prior samples the global code for this seed. `offload` keeps the canvas in host memory
        while the network runs on the GPU (None: automatic)."""
        painter = self.painter
        check_canvas(height, width, mode, tileable)
        big_h, big_w = painter.grid_size(height, width, tileable)
        x = painter.initial_noise(seed, big_h, big_w, device=painter.canvas_device(big_h, big_w, offload))
        s = painter.settings(
            steps=steps,
            guidance=guidance,
            eta=eta,
            grid=grid,
            sampler=sampler,
            guidance_interval=guidance_interval,
            ladder_end=ladder_end,
        )
        kw = dict(mode=mode, tileable=tileable, chunk=chunk, positions=positions, stride=stride)
        hooks, start = [], 0
        if layout is not None:
            steer = steering.structure_steer(painter, layout, height, width, structure, tileable=tileable,
                                             weight=layout_weight)  # fmt: skip
            hooks.append(steer)
            path = painter.levels(s)
            start = min(len(path) - 1, round(structure.skip * len(path)))
            if start:  # a head start: the layout noised to the first level that runs (as img2img starts)
                x = self.schedule.q_sample(steer.layout.to(x.device), path[start], x)
        if palette is not None and palette_strength > 0:
            hooks.append(PaletteSteer(palette, palette_strength))
        z = self.default_z(seed) if z is None else z
        yield from painter.paint(x, (height, width), seed=seed, z=z, s=s, start=start, x0_fn=chain(*hooks), **kw)

    def compose(
        self,
        source: LayoutSource,
        height: int,
        width: int,
        *,
        seed: int,
        layout_seed: int | None = None,
        how: str = "structure",
        structure: Structure = STRUCTURE,
        strength: float = LAYOUT_STRENGTH,
        z: Tensor | None = None,
        own_code: bool | None = None,
        **kw,
    ) -> Iterator[Step]:
        """Paint a canvas on the seed's layout from `source` (composition/sources.py): by structure guidance
        (`how` "structure": the layout's large shapes, the model's texture) or img2img at `strength` ("img2img":
        a variation of the layout, softer); `layout_seed` picks the layout (default: `seed`). The global code is
        the prior's for the seed, as plain generate's (with structure guidance: the canvas's texture then is the
        model's own, where the code of a smooth layout painted it smooth, docs/experiments/composition.md), or
        the layout's own (`own_code`, the default for img2img; encode_style); `z` overrides both. kw: generate's
        (img2img's for "img2img")."""
        if how not in HOWS:
            raise ValueError(f"unknown way to bring in a layout {how!r}; choose one of {', '.join(HOWS)}")
        plan = layout_of(source, seed if layout_seed is None else layout_seed, height, width)
        if z is None:
            own = own_code if own_code is not None else how == "img2img"
            z = self.encode_style(plan) if own else self.default_z(seed)
        if how == "img2img":
            for key in ("palette", "palette_strength"):
                kw.pop(key, None)
            yield from self.img2img(plan, strength=strength, seed=seed, z=z, **kw)
            return
        yield from self.generate(height, width, seed=seed, z=z, layout=plan, structure=structure, **kw)

    inpaint = _on_painter(edits.inpaint)
    outpaint = _on_painter(edits.outpaint)
    reroll = _on_painter(edits.reroll)
    img2img = _on_painter(steering.img2img)
    upscale = _on_painter(steering.upscale)
    # the painter's parts, for the CLI, the app, benchmarks and tests
    settings = _on_painter(Painter.settings)
    denoiser = _on_painter(Painter.denoiser)

    def compile(self, cuda_graphs: bool = False) -> PatchDM:
        """Compile the network's encoder and decoder halves (torch.compile; for GPUs, see
        sampling/compiled.py); the first pictures after it take the compile time. Returns self."""
        compile_network(self.model.unet, cuda_graphs=cuda_graphs)
        return self

    cond = _on_painter(Painter.cond)
    encode_style = _on_painter(Painter.encode_style)
    initial_noise = _on_painter(Painter.initial_noise)
    canvas_device = _on_painter(Painter.canvas_device)
    default_chunk = _on_painter(Painter.default_chunk)
    grid_size = _on_painter(Painter.grid_size)

    def preview(self, step: Step, max_side: int = 768) -> Image.Image:
        """A small picture of a running job's step, for live previews (Painter.preview)."""
        return to_pil(self.painter.preview(step, max_side))

    # -- the latent prior over global codes -------------------------------------------------------

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

    def params(self, **kw: object) -> dict[str, object]:
        """Generation parameters in A1111 order, for the PNG `parameters` chunk."""
        return {**kw, "Model": self.name, "Model hash": self.model_hash}
