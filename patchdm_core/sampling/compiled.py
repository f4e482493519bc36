"""torch.compile of the patch network's two halves for sampling on a GPU (`PatchDM.compile`).

Painting spends its time in the encoder and decoder halves that the canvas denoiser calls on chunks of
patches. On a GPU those halves are bound by memory traffic, not arithmetic: at 16-64 channels every
3x3 convolution is cheap next to the five elementwise passes of group norm, AdaGN scale and shift,
the global-code scale and SiLU around it, which inductor fuses into one kernel. The canvas denoiser
is unchanged: it calls `unet.encode` and `unet.decode`, which become compiled functions on this
instance. Chunk sizes vary (the last chunk of a band, the last band): `dynamic=None` lets torch mark
the batch dimension dynamic after the first new size instead of compiling once per size.

With `cuda_graphs` each call replays a recorded CUDA graph ("reduce-overhead"); a graph's outputs
live in memory its next replay overwrites, and the denoiser keeps a band's encoder features across
the calls of the next chunks, so the outputs are copied out. On the CPU compiling does not pay
(bench/experiments/backends.py: inductor was no faster than oneDNN's eager kernels at these sizes).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..model.unet import PatchUNet

COMPILE_BACKEND = "inductor"  # the CPU tests use "aot_eager": inductor's C++ build takes minutes on 2 cores


def compile_network(unet: PatchUNet, *, cuda_graphs: bool = False) -> PatchUNet:
    """Replace this instance's `encode` and `decode` by compiled versions of themselves (same results to
    rounding); a second call is a no-op. Returns the unet."""
    if getattr(unet, "compiled", False):
        return unet
    graphs = cuda_graphs and COMPILE_BACKEND == "inductor"
    mode = "reduce-overhead" if graphs else None
    encode = torch.compile(unet.encode, mode=mode, dynamic=None, backend=COMPILE_BACKEND)
    decode = torch.compile(unet.decode, mode=mode, dynamic=None, backend=COMPILE_BACKEND)
    unet.encode = _copied_out(encode) if graphs else encode  # type: ignore[method-assign]
    unet.decode = _copied_out(decode) if graphs else decode  # type: ignore[method-assign]
    unet.compiled = True
    return unet


def _copied_out(fn: Callable) -> Callable:
    def call(*args: object) -> object:
        torch.compiler.cudagraph_mark_step_begin()
        out = fn(*args)
        return [f.clone() for f in out] if isinstance(out, list) else out.clone()

    return call
