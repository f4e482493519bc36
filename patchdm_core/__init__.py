"""Patch-DM: patched denoising diffusion models that paint canvases of any size (arXiv 2308.01316)."""

from .checkpoint import CheckpointError
from .collage import Grid
from .config import PatchDMConfig, demo, paper, preset, tiny
from .guidance import Cond, cfg
from .images import from_pil, to_pil
from .pipeline import PatchDM, pick_device
from .sampler import Step, ddim_sample, run

__all__ = [
    "CheckpointError",
    "Cond",
    "Grid",
    "PatchDM",
    "PatchDMConfig",
    "Step",
    "cfg",
    "ddim_sample",
    "demo",
    "from_pil",
    "paper",
    "pick_device",
    "preset",
    "run",
    "tiny",
    "to_pil",
]
