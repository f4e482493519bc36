from __future__ import annotations

import os
import tempfile

# Sleep rather than spin at OpenMP barriers: on a 2-core machine shared with another busy process
# (an app server under test, a training run) spinning threads slow small ops down by up to 80x.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# The CPU precision check caches its answer in the user's cache folder: tests (and the servers and CLI
# processes they start) keep theirs in a folder of their own.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="patchdm-test-cache-")

import pytest  # noqa: E402
import torch  # noqa: E402

from patchdm_core import PatchDM, tiny  # noqa: E402


@pytest.fixture(scope="session")
def tiny_pipe() -> PatchDM:
    """An untrained tiny model whose output convs are not zero (so eps depends on the input)."""
    pipe = PatchDM.random_init(tiny(), device="cpu", seed=0)
    randomize_zero_inits(pipe.model)
    return pipe


def randomize_zero_inits(model: torch.nn.Module, seed: int = 1) -> None:
    """ADM zero-initialises output convs; tests need a network whose every path matters."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.ndim > 1 and not p.any():
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
        for name, p in model.named_parameters():
            if "null" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
