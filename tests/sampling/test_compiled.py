"""A compiled network paints the same canvas as the eager one, with chunks of every size (the GPU check in
bench/gpu_checks.py runs inductor and CUDA graphs; here the same capture runs on eager kernels)."""

from __future__ import annotations

import torch

from patchdm_core import PatchDM, tiny
from patchdm_core.sampling import compiled


def test_a_compiled_network_gives_the_same_eps_for_every_chunk_size(monkeypatch) -> None:
    monkeypatch.setattr(compiled, "COMPILE_BACKEND", "aot_eager")
    torch._dynamo.reset()
    eager, fast = PatchDM.random_init(tiny(), device="cpu"), PatchDM.random_init(tiny(), device="cpu")
    fast.compile()
    assert fast.compile() is fast and fast.model.unet.compiled  # a second call changes nothing
    x = torch.randn(2, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    t = torch.tensor([700, 300])
    z = torch.randn(2, tiny().unet.z_dim, generator=torch.Generator().manual_seed(1))
    for chunk, grid in ((5, "fixed"), (7, "random")):  # remainders of 1 to 6 patches
        a = eager.denoiser("feature", chunk=chunk, grid=grid)
        b = fast.denoiser("feature", chunk=chunk, grid=grid)
        for _ in range(2):  # call 1 moves the lattice under random and alternate
            torch.testing.assert_close(b(x, t, fast.cond(z, 2)), a(x, t, eager.cond(z, 2)), atol=1e-5, rtol=1e-4)
    torch._dynamo.reset()
