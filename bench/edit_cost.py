"""Cost of the editing jobs on this machine, measured in one run (issue: inpainting & co.):

- harmonized (RePaint resampling) vs fast inpainting of the same mask on the same canvas;
- an "only the masked area" edit vs a full-canvas edit at 3840x2160.

Patch evaluations are counted at the UNet's encoder (one per patch per guided branch), time is wall
time. A few DDIM steps are enough for the 3840x2160 ratio: every step costs the same.

    python bench/edit_cost.py --weights weights/patchdm-demo.safetensors --out bench/results/cpu-editing
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from patchdm_core import PatchDM, run  # noqa: E402


class EvalCounter:
    """Counts patches through the UNet encoder (every denoiser mode goes through it)."""

    def __init__(self, unet: torch.nn.Module) -> None:
        self.count, self._unet, self._encode = 0, unet, unet.encode

        def counted(x, emb):
            self.count += x.shape[0]
            return self._encode(x, emb)

        unet.encode = counted

    def take(self) -> int:
        n, self.count = self.count, 0
        return n


def timed(counter: EvalCounter, steps) -> tuple[float, int]:
    start = time.perf_counter()
    run(steps)
    return time.perf_counter() - start, counter.take()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="weights/patchdm-demo.safetensors")
    ap.add_argument("--out", type=Path, default=Path("bench/results/cpu-editing"))
    ap.add_argument("--small", default="512x256", help="canvas of the fast vs harmonized comparison")
    ap.add_argument("--small-steps", type=int, default=50)
    ap.add_argument("--big", default="3840x2160", help="canvas of the only-masked vs full comparison")
    ap.add_argument("--big-steps", type=int, default=2)
    ap.add_argument("--box", type=int, default=256, help="side of the square repainted at the big canvas's centre")
    args = ap.parse_args()
    pipe = PatchDM.load(args.weights)
    counter = EvalCounter(pipe.model.unet)
    rows = []

    w, h = (int(v) for v in args.small.split("x"))
    image = torch.rand(1, 3, h, w) * 2 - 1
    keep = torch.ones(1, 1, h, w)
    keep[..., h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = 0
    for method in ("fast", "harmonized"):
        secs, evals = timed(counter, pipe.inpaint(image, keep, seed=0, method=method, steps=args.small_steps))
        rows.append(
            {"job": f"inpaint {method}", "canvas": args.small, "steps": args.small_steps, "s": secs, "evals": evals}
        )

    w, h = (int(v) for v in args.big.split("x"))
    image = torch.rand(1, 3, h, w) * 2 - 1
    keep = torch.ones(1, 1, h, w)
    b = args.box
    keep[..., (h - b) // 2 : (h + b) // 2, (w - b) // 2 : (w + b) // 2] = 0
    for only in (False, True):
        secs, evals = timed(counter, pipe.inpaint(image, keep, seed=0, only_masked=only, steps=args.big_steps))
        job = f"inpaint {b}x{b} box, " + ("only the masked area" if only else "whole canvas")
        rows.append({"job": job, "canvas": args.big, "steps": args.big_steps, "s": secs, "evals": evals})

    ratios = {
        "harmonized / fast (time)": rows[1]["s"] / rows[0]["s"],
        "harmonized / fast (evals)": rows[1]["evals"] / rows[0]["evals"],
        "only-masked / full (time)": rows[3]["s"] / rows[2]["s"],
        "only-masked / full (evals)": rows[3]["evals"] / rows[2]["evals"],
    }
    lines = ["| job | canvas | DDIM steps | seconds | patch evaluations |", "|---|---|---|---|---|"]
    lines += [f"| {r['job']} | {r['canvas']} | {r['steps']} | {r['s']:.1f} | {r['evals']} |" for r in rows]
    lines += ["", *(f"- {k}: {v:.3f}" for k, v in ratios.items())]
    table = "\n".join(lines)
    print(table)
    machine = {"cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps({"machine": machine, "rows": rows, "ratios": ratios}, indent=1))
    command = "python bench/edit_cost.py " + " ".join(sys.argv[1:])
    args.out.with_suffix(".md").write_text(f"Measured with `{command}` ({machine}).\n\n{table}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
