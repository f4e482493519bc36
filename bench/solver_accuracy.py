"""How close a few-step sampler gets to the picture the model converges to: for each candidate (solver, steps,
guidance interval, ladder) the canvases of some seeds are compared with the same seeds' canvases from a long
reference run (DPM-Solver++(2M), 50 steps, guidance everywhere). Reported per candidate: the RMS distance
(colours in [-1, 1]) of the whole canvas and of its 64x32 thumbnail (the layout), the network passes over
the canvas (a guided step costs two) and the seconds per canvas. A cheap first filter: the candidates that
stay close go on to `eval` against held-out pictures, which is the judge.

    python bench/solver_accuracy.py --size 512x256 --seeds 0,1,2,3 \\
        --candidates dpmpp-2m:12,dpmpp-2m:8,dpmpp-3m:8,unipc:8,unipc:8@250-750 --out bench/results/cpu-solvers
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from patchdm_core import PatchDM, run  # noqa: E402
from patchdm_core.cli.common import DEFAULT_WEIGHTS  # noqa: E402
from patchdm_core.runtime.precision import cpu_name  # noqa: E402
from patchdm_core.runtime.sizes import parse_size  # noqa: E402
from patchdm_core.sampling.guidance import guided_passes  # noqa: E402
from patchdm_core.sampling.solvers import ladder  # noqa: E402


def parse(text: str) -> dict:
    """'unipc:8@250-750' -> sampler, steps and guidance interval (default: everywhere)."""
    name, _, interval = text.partition("@")
    sampler, steps = name.split(":")
    lo, hi = (int(v) for v in interval.split("-")) if interval else (0, 999)
    return {"sampler": sampler, "steps": int(steps), "guidance_interval": (lo, hi)}


def thumb(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=(32, 64), mode="area")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    ap.add_argument("--size", default="512x256")
    ap.add_argument("--seeds", default="0,1,2,3")
    ap.add_argument("--reference", default="dpmpp-2m:50")
    ap.add_argument("--candidates", required=True, help="comma-separated sampler:steps[@lo-hi]")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    width, height = parse_size(args.size)
    seeds = [int(s) for s in args.seeds.split(",")]
    pipe = PatchDM.load(args.weights, device="cpu")
    guidance = pipe.cfg.sampling.guidance

    def paint(setting: dict) -> tuple[list[torch.Tensor], float]:
        start = time.perf_counter()
        out = [run(pipe.generate(height, width, seed=s, **setting)).float() for s in seeds]
        return out, (time.perf_counter() - start) / len(seeds)

    ref, ref_seconds = paint(parse(args.reference))
    rows = []
    for text in args.candidates.split(","):
        setting = parse(text)
        levels = ladder(setting["sampler"], pipe.schedule, setting["steps"])
        fakes, seconds = paint(setting)
        rms = statistics.mean(float((a - b).pow(2).mean().sqrt()) for a, b in zip(fakes, ref))
        rms_thumb = statistics.mean(float((thumb(a) - thumb(b)).pow(2).mean().sqrt()) for a, b in zip(fakes, ref))
        passes = guided_passes(levels, guidance, setting["guidance_interval"])
        rows.append({"candidate": text, "rms": rms, "rms_thumb": rms_thumb, "passes": passes, "seconds": seconds})
        print(f"{text:>24}: rms {rms:.4f} thumb {rms_thumb:.4f} passes {passes} {seconds:.1f} s/canvas", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"command": " ".join(sys.argv), "cpu": cpu_name(), "reference_seconds": ref_seconds}
    (args.out / "solver-accuracy.json").write_text(json.dumps({**meta, "rows": rows}, indent=1))
    lines = [f"`python {' '.join(sys.argv)}`", "", f"CPU: {cpu_name()}", ""]
    lines += ["| candidate | RMS to the reference | thumbnail RMS | passes | s / canvas |", "|---|---|---|---|---|"]
    lines += [
        f"| {r['candidate']} | {r['rms']:.4f} | {r['rms_thumb']:.4f} | {r['passes']} | {r['seconds']:.1f} |"
        for r in rows
    ]
    (args.out / "solver-accuracy.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
