"""Patch-DM: patched denoising diffusion models that paint canvases of any size (arXiv 2308.01316)."""

import os
import signal
import sys


def _interrupted_at_start(signum: int, frame: object) -> None:
    sys.stderr.write("interrupted\n")
    os._exit(130)  # nothing has been written yet; a traceback from inside torch's import says nothing


# `python -m patchdm_core` or the installed `patchdm`: Ctrl-C while torch loads is one line too (cli.main takes over)
if sys.argv[:1] == ["-m"] or os.path.basename(sys.argv[0] if sys.argv else "") == "patchdm":
    signal.signal(signal.SIGINT, _interrupted_at_start)

# Before torch starts its OpenMP runtime: threads sleep at barriers instead of spinning (threads.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .model.collage import Grid  # noqa: E402
from .model.config import PatchDMConfig  # noqa: E402
from .model.presets import demo, paper, preset, tiny  # noqa: E402
from .model.weights import CheckpointError  # noqa: E402  (after the OpenMP policy)
from .pipeline import PatchDM  # noqa: E402
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
