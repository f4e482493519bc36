"""Speed levers of a training run: how the same arithmetic is laid out and launched, not what is learned.

Each lever leaves the loss of a step the same to rounding (tests/training/test_speed.py checks every one
on the CPU, and the CUDA-only ones under the `gpu` mark), so a run may switch them freely between
resumes. Which pay is a property of the device, measured by `bench-train --speed` and the A/B at the
start of bench/device_run.sh, not assumed:

- `channels-last`: NHWC weights and activations. cuDNN's bf16 tensor-core convolutions are NHWC
  kernels; NCHW tensors are transposed around every one of them.
- `autotune`: cuDNN benchmarks its convolution algorithms for each shape once (a training step's
  shapes never change).
- `compile`: torch.compile (inductor) of the loss, forward and backward. It fuses the elementwise
  chains around every convolution: group norm, the AdaGN scale and shift, the global-code scale and
  SiLU become one kernel where eager runs five passes over the activation.
- `cuda-graphs`: `compile` in "reduce-overhead" mode: the step's kernels are replayed as one CUDA
  graph, so a small network is not bound by the host launching ~1 000 kernels per step.

The learning rate is a separate question (`scaled_lr`): a lever that changes the batch changes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields

import torch
from torch import nn

LEVERS = ("channels-last", "autotune", "compile", "cuda-graphs")
CUDA_ONLY = ("autotune", "cuda-graphs")
LR_SCALINGS = ("none", "sqrt")
# inductor writes C++ or Triton kernels; the CPU tests trace the same step with "aot_eager" (forward and
# backward graphs captured, run by eager kernels) because inductor's C++ build takes minutes on 2 cores
COMPILE_BACKEND = "inductor"


@dataclass(frozen=True)
class Speed:
    channels_last: bool = False
    autotune: bool = False
    compile: bool = False
    cuda_graphs: bool = False

    @classmethod
    def parse(cls, text: str | None) -> Speed:
        """'channels-last,compile' -> Speed; '' or 'none' -> no lever; an unknown name is an error."""
        names = [n.strip() for n in (text or "").split(",") if n.strip() and n.strip() != "none"]
        for name in names:
            if name not in LEVERS:
                raise ValueError(f"unknown speed lever {name!r}; choose from {', '.join(LEVERS)} (or none)")
        return cls(**{n.replace("-", "_"): True for n in names})

    def __str__(self) -> str:
        on = [f.name.replace("_", "-") for f in fields(self) if getattr(self, f.name)]
        return ",".join(on) or "none"

    def check(self, device: torch.device) -> None:
        """CUDA-only levers on another device are refused in a sentence (not silently ignored)."""
        if device.type != "cuda":
            for name in CUDA_ONLY:
                if getattr(self, name.replace("-", "_")):
                    raise ValueError(f"speed lever {name} needs a CUDA device; this run trains on {device.type}")


EAGER = Speed()  # no lever: what every run did before them
# The command line's default: NHWC trained the demo config 1.3x faster on a 2-core Zen 3 (bench-train,
# README's training section), and cuDNN's tensor-core convolutions are NHWC kernels. The others wait
# for the GPU A/B of bench/device_run.sh to show what they pay.
DEFAULT_SPEED = Speed(channels_last=True)


def prepare(model: nn.Module, speed: Speed) -> nn.Module:
    """The model in the levers' memory layout, before the optimizer and the EMA copies are made from it
    (their tensors then share the layout, and the EMA's foreach lerp runs on matching strides)."""
    if speed.channels_last:
        model.to(memory_format=torch.channels_last)
    if speed.autotune:
        torch.backends.cudnn.benchmark = True
    return model


def compiled(loss_fn: nn.Module, speed: Speed) -> Callable:
    """The loss module, compiled where the levers ask for it (the first steps then take the compile time)."""
    if not (speed.compile or speed.cuda_graphs):
        return loss_fn
    # dynamic=False: a training step's shapes never change, and static shapes let inductor pick kernels
    mode = "reduce-overhead" if speed.cuda_graphs and COMPILE_BACKEND == "inductor" else None
    fn = torch.compile(loss_fn, mode=mode, dynamic=False, backend=COMPILE_BACKEND)
    if not speed.cuda_graphs:
        return fn

    def step(*args: object) -> object:
        # a graph's outputs live in memory its next replay overwrites: each call starts a new step
        torch.compiler.cudagraph_mark_step_begin()
        return fn(*args)

    return step


def scaled_lr(lr: float, batch: int, reference_batch: int, rule: str) -> float:
    """The learning rate for a global batch of `batch` windows, given `lr` tuned at `reference_batch`.

    "sqrt": lr x sqrt(batch / reference). For Adam-type optimizers the square-root rule keeps the
    stochastic dynamics of training the same per window seen (Malladi et al., "On the SDEs and scaling
    rules for adaptive gradient algorithms", NeurIPS 2022); the linear rule of SGD over-shoots with Adam.
    "none": lr unchanged (what every run before this rule did)."""
    if rule not in LR_SCALINGS:
        raise ValueError(f"unknown learning-rate scaling {rule!r}; choose from {', '.join(LR_SCALINGS)}")
    if rule == "none" or batch == reference_batch:
        return lr
    return lr * math.sqrt(batch / reference_batch)
