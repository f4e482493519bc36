"""Patch-DM: patched denoising diffusion models that paint canvases of any size (arXiv 2308.01316)."""

import os

# Before torch starts its OpenMP runtime: threads sleep at barriers instead of spinning (threads.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .model.collage import Grid  # noqa: E402
from .model.config import PatchDMConfig, demo, paper, preset, tiny  # noqa: E402
from .model.weights import CheckpointError  # noqa: E402  (after the OpenMP policy)
from .pipeline import PatchDM
from .runtime.devices import pick_device  # noqa: E402
from .runtime.images import from_pil, to_pil  # noqa: E402
from .sampling.guidance import Cond, cfg  # noqa: E402
from .sampling.solvers import Step, ddim_sample, run  # noqa: E402

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
