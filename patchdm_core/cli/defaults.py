"""`set-defaults`: change the sampling defaults stored in a weights file (its tensors stay as they are).

python -m patchdm_core set-defaults --weights weights/patchdm-demo.safetensors --sampler dpmpp-2m --steps 12
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from ..model.weights import load_weights, set_sampling_defaults
from ..runtime import checks
from ..sampling.positions import GRIDS
from ..sampling.solvers import SAMPLERS
from .common import interval_arg


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:

    p.add_argument("--weights", type=Path, required=True, help="weights file to update in place")
    p.add_argument("--steps", type=checks.arg("steps", integer=True), default=None, help="solver steps, 1-1000")
    p.add_argument("--guidance", type=checks.arg("guidance"), default=None, help="classifier-free guidance, 0-20")
    p.add_argument("--sampler", choices=list(SAMPLERS), default=None)
    p.add_argument("--grid", choices=list(GRIDS), default=None, help="feature mode: position rule of the patch grid")
    p.add_argument("--eta", type=checks.arg("eta"), default=None, help="stochasticity in [0, 1]")
    p.add_argument("--positions", choices=["absolute", "stretch"], default=None)
    p.add_argument(
        "--guidance-interval",
        type=interval_arg,
        default=None,
        metavar="LO-HI",
        help="timesteps (0-999) that get guidance; one network pass instead of two elsewhere",
    )


def main(args: argparse.Namespace) -> int:

    fields = {
        k: getattr(args, k)
        for k in ("steps", "guidance", "sampler", "grid", "eta", "positions", "guidance_interval")
        if getattr(args, k) is not None
    }
    if not fields:
        raise ValueError(
            "nothing to change: give one or more of --steps --guidance --sampler --grid --eta --positions "
            "--guidance-interval"
        )
    before = load_weights(args.weights)[0].sampling
    checks.writable_folder(args.weights.parent, "--weights")  # the file is rewritten through a temporary one
    if not os.access(args.weights, os.W_OK):
        raise ValueError(f"cannot change {args.weights}: it is read-only")
    after = set_sampling_defaults(args.weights, **fields).sampling
    print(f"{args.weights}: sampling defaults")
    for key, value in dataclasses.asdict(after).items():
        old = getattr(before, key)
        print(f"  {key}: {value}" + (f" (was {old})" if old != value else ""))
    return 0
