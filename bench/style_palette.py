"""How much of a reference picture `generate --style` carries (its global code, and its colours steered in at
--palette-strength, the generate default unless given): for each held-out picture as the reference,
the palette distance (metrics.palette_distance: a sliced earth mover's distance between pixel colours)
from the styled canvases to it, against the distance from unconditional canvases of the same seeds (the
prior's codes) to it. A ratio of 1 means the reference changed nothing; 0, its colours exactly.

    python bench/style_palette.py --data data/wallpapers/heldout --size 512x256 --seeds 0,1 \\
        --out bench/results/cpu-style-palette [--weights W.safetensors]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from patchdm_core import PatchDM, run  # noqa: E402
from patchdm_core.cli.common import DEFAULT_WEIGHTS  # noqa: E402
from patchdm_core.evaluation.evaluate import real_images  # noqa: E402
from patchdm_core.evaluation.metrics import palette_distance  # noqa: E402
from patchdm_core.runtime.precision import cpu_name  # noqa: E402
from patchdm_core.runtime.sizes import parse_size  # noqa: E402
from patchdm_core.sampling.palette import STRENGTH as PALETTE_STRENGTH  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    ap.add_argument("--data", type=Path, required=True, help="held-out pictures, each one a reference")
    ap.add_argument("--size", default="512x256")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--palette-strength", type=float, default=PALETTE_STRENGTH, help="0: the global code alone")
    ap.add_argument("--out", type=Path, required=True, help="folder for style-palette.json and .md")
    args = ap.parse_args()
    width, height = parse_size(args.size)
    seeds = [int(s) for s in args.seeds.split(",")]
    pipe = PatchDM.load(args.weights, device="cpu")
    refs = real_images(args.data, height, width)
    start = time.perf_counter()
    plain = {seed: run(pipe.generate(height, width, seed=seed)).float().cpu() for seed in seeds}
    rows = []
    for i, ref in enumerate(refs):
        z = pipe.encode_style(ref[None])
        steer = dict(palette=ref[None], palette_strength=args.palette_strength)
        styled = [run(pipe.generate(height, width, seed=seed, z=z, **steer)).float().cpu() for seed in seeds]
        d_styled = statistics.mean(palette_distance(x, ref) for x in styled)
        d_plain = statistics.mean(palette_distance(plain[seed], ref) for seed in seeds)
        rows.append({"reference": i, "styled": d_styled, "unconditional": d_plain, "ratio": d_styled / d_plain})
        print(f"reference {i}: styled {d_styled:.1f} unconditional {d_plain:.1f} ratio {d_styled / d_plain:.2f}")
    styled_mean, plain_mean = (statistics.mean(r[k] for r in rows) for k in ("styled", "unconditional"))
    summary = {
        "ratio_of_means": styled_mean / plain_mean,
        "mean_ratio": statistics.mean(r["ratio"] for r in rows),
        "seconds": time.perf_counter() - start,
    }
    command = "python bench/style_palette.py " + " ".join(sys.argv[1:])
    meta = {"command": command, "cpu": cpu_name(), "weights": pipe.model_hash, "size": args.size, "seeds": seeds}
    meta["palette_strength"] = args.palette_strength
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "style-palette.json").write_text(json.dumps({**meta, **summary, "rows": rows}, indent=1) + "\n")
    about = f"Model {pipe.model_hash}; palette strength {args.palette_strength}; CPU: {cpu_name()}"
    lines = [f"`{command}`", "", about, ""]
    lines += ["| reference | styled | unconditional | ratio |", "|---|---|---|---|"]
    lines += [f"| {r['reference']} | {r['styled']:.1f} | {r['unconditional']:.1f} | {r['ratio']:.2f} |" for r in rows]
    lines += ["", f"Mean ratio {summary['mean_ratio']:.2f}; ratio of the means {summary['ratio_of_means']:.2f}."]
    (args.out / "style-palette.md").write_text("\n".join(lines) + "\n")
    print(lines[-1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
