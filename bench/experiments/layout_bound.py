"""Best case of a composition stage (issue: demo model v2): real layouts painted by the patch model.

A whole-picture model that proposes a small composition for the patch model to paint through img2img
can at best propose the layouts of real pictures. This takes them from training pictures (cover-cropped
to the canvas's aspect, box-downsampled to --thumb, bicubic back up), paints them with img2img at each
--strengths value (seeds 0..n-1, the model's default sampler) and scores the canvases as `eval` does
(seam, lattice, grain, SWD against the held-out pictures). If real layouts do not lower SWD, a layout
model would not either.

    python bench/experiments/layout_bound.py --out bench/results/cpu-layout-bound
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

from patchdm_core import PatchDM, run  # noqa: E402
from patchdm_core.evaluation.evaluate import _scores, real_images  # noqa: E402
from patchdm_core.evaluation.metrics import swd  # noqa: E402
from patchdm_core.runtime.images import from_pil  # noqa: E402
from patchdm_core.runtime.pictures import list_images  # noqa: E402
from patchdm_core.runtime.precision import cpu_name  # noqa: E402


def layout(path: Path, thumb: tuple[int, int], size: tuple[int, int]) -> torch.Tensor:
    """The picture cover-cropped to size's aspect, box-downsampled to thumb (w, h), bicubic up to size (h, w)."""
    pic = Image.open(path).convert("RGB")
    w, h = pic.size
    aspect = size[1] / size[0]
    cw, ch = (w, round(w / aspect)) if h * aspect >= w else (round(h * aspect), h)
    left, top = (w - cw) // 2, (h - ch) // 2
    small = pic.crop((left, top, left + cw, top + ch)).resize(thumb, Image.Resampling.BOX)
    return F.interpolate(from_pil(small), size=size, mode="bicubic", align_corners=False).clamp(-1, 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="weights/patchdm-demo.safetensors")
    ap.add_argument("--train", type=Path, default=Path("data/wallpapers/train"), help="where the layouts come from")
    ap.add_argument("--data", type=Path, default=Path("data/wallpapers/heldout"), help="held-out pictures for SWD")
    ap.add_argument("--size", default="1024x512")
    ap.add_argument("--thumbs", default="64x32,16x8")
    ap.add_argument("--strengths", default="0.8,0.9")
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--out", type=Path, default=Path("bench/results/cpu-layout-bound"))
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    pipe = PatchDM.load(args.weights, device="cpu")
    real = real_images(args.data, height, width)
    pictures = list_images(args.train)
    rows = []
    for thumb in args.thumbs.split(","):
        tw, th = (int(v) for v in thumb.split("x"))
        for strength in (float(s) for s in args.strengths.split(",")):
            start, fakes = time.perf_counter(), []
            for seed in range(args.n):
                sketch = layout(pictures[(seed * 17 + 5) % len(pictures)], (tw, th), (height, width))
                fakes.append(run(pipe.img2img(sketch, strength=strength, seed=seed)).float().cpu())
            fake = torch.cat(fakes)
            row = {"layout": thumb, "strength": strength, **_scores(fake, pipe.p), "swd": swd(fake, real)["mean"]}
            row["seconds"] = (time.perf_counter() - start) / args.n
            rows.append(row)
            print(
                f"layout {thumb} strength {strength}: seam {row['seam']:.3f} lattice {row['lattice']:.3f}"
                f" grain {row['grain']:.1f} SWD {row['swd']:.1f} ({row['seconds']:.0f} s/image)",
                flush=True,
            )
    command = "python bench/experiments/layout_bound.py " + " ".join(sys.argv[1:])
    meta = {"cpu": cpu_name(), "weights": pipe.model_hash, "command": command, "size": args.size, "n": args.n}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = [f"Measured with `{command}` ({meta['cpu']}, model {meta['weights']}, {args.size}, n = {args.n}).", ""]
    lines += ["| layout | strength | seam | lattice | grain | SWD (x1e3) |", "|---|---|---|---|---|---|"]
    for r in rows:
        scores = f"{r['seam']:.3f} | {r['lattice']:.3f} | {r['grain']:.1f} | {r['swd']:.1f}"
        lines.append(f"| {r['layout']} | {r['strength']} | {scores} |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
