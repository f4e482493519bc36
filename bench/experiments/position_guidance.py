"""Does guidance on the patch position give the demo model a layout? (issue: demo model v2, composition)

The network sees each patch's position on the canvas, dropped half of the time in training. Classifier-free
guidance drops code and position together; this adds a separate position term,
    eps = u + s_z (c - u) + s_pos (c - p),   u = eps(no code, no position), p = eps(code, no position),
so that whatever the model ties to a place (a bright top, a dark bottom) is amplified, at 1.5x the network
evaluations of plain guidance. Each setting paints the same seeds and global codes; the script prints how
far each canvas moved from the s_pos = 0 one (mean |difference|, 0-255), how much its luminance varies
from row to row and column to column (a sky over a horizon varies between rows; the held-out pictures'
own value is printed too), and SWD against the held-out pictures, and writes a contact sheet.

    python bench/experiments/position_guidance.py --settings 1.5:0,1.5:1,1.5:3,3:0 \\
        --out bench/results/cpu-position-guidance
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402
from PIL import Image  # noqa: E402

from patchdm_core import PatchDM, run, to_pil  # noqa: E402
from patchdm_core.evaluation.evaluate import real_images  # noqa: E402
from patchdm_core.evaluation.metrics import swd  # noqa: E402
from patchdm_core.runtime.precision import cpu_name  # noqa: E402
from patchdm_core.sampling.guidance import Cond  # noqa: E402
from patchdm_core.sampling.noise import patch_seed  # noqa: E402
from patchdm_core.sampling.solvers import get_sampler, ladder  # noqa: E402


def paint(pipe: PatchDM, seed: int, height: int, width: int, s_z: float, s_pos: float) -> torch.Tensor:
    """One canvas at the model's default sampler with code guidance s_z and position guidance s_pos."""
    s = pipe.settings()
    den = pipe.denoiser("feature", grid=s["grid"], grid_seed=seed)
    cond = pipe.cond(pipe.default_z(seed))
    off = torch.zeros_like(cond.keep_z)
    three = Cond.cat(Cond.cat(Cond(cond.z, off, off), Cond(cond.z, cond.keep_z, off)), cond)

    def eps_fn(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        u, p, c = den(torch.cat([x, x, x]), torch.cat([t, t, t]), three).chunk(3)
        return u + s_z * (c - u) + s_pos * (c - p)

    x = pipe.initial_noise(seed, height, width)
    gen = torch.Generator().manual_seed(patch_seed(seed, -1, -1))
    path = ladder(s["sampler"], pipe.schedule, s["steps"])
    return run(get_sampler(s["sampler"])(eps_fn, x, pipe.schedule, path=path, eta=s["eta"], generator=gen)).float()


def spread(img: torch.Tensor) -> float:
    """Std of the row-mean luminance plus std of the column-mean luminance, 0-255: large-scale layout."""
    lum = (img[0].clamp(-1, 1).mean(dim=0) + 1) * 127.5
    return float(lum.mean(dim=1).std() + lum.mean(dim=0).std())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="weights/patchdm-demo.safetensors")
    ap.add_argument("--data", type=Path, default=Path("data/heldout-v1"), help="held-out pictures for SWD")
    ap.add_argument("--size", default="512x256")
    ap.add_argument("--settings", default="1.5:0,1.5:1,1.5:3,3:0", help="comma list of s_z:s_pos")
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--out", type=Path, default=Path("bench/results/cpu-position-guidance"))
    ap.add_argument("--sheet", type=Path, default=None, help="also write the canvases here (a PNG to look at)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    width, height = (int(v) for v in args.size.split("x"))
    settings = [tuple(float(v) for v in s.split(":")) for s in args.settings.split(",")]
    pipe = PatchDM.load(args.weights, device="cpu")
    real = real_images(args.data, height, width)
    canvases = {st: [paint(pipe, seed, height, width, *st) for seed in range(args.n)] for st in settings}
    base = canvases[settings[0]]
    rows = []
    for (s_z, s_pos), imgs in canvases.items():
        moved = statistics.mean(float((a - b).abs().mean()) * 127.5 for a, b in zip(imgs, base))
        row = {"s_z": s_z, "s_pos": s_pos, "moved": moved, "spread": statistics.mean(spread(x) for x in imgs)}
        row["swd"] = swd(torch.cat(imgs), real)["mean"]
        rows.append(row)
        print(f"s_z {s_z} s_pos {s_pos}: moved {moved:.1f} spread {row['spread']:.1f} SWD {row['swd']:.1f}", flush=True)
    held_out = statistics.mean(spread(x[None]) for x in real)
    command = "python bench/experiments/position_guidance.py " + " ".join(sys.argv[1:])
    meta = {"cpu": cpu_name(), "weights": pipe.model_hash, "command": command, "size": args.size, "n": args.n}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps({"meta": meta, "held_out_spread": held_out, "rows": rows}))
    lines = [f"Measured with `{command}` ({meta['cpu']}, model {meta['weights']}, {args.size}, n = {args.n}).", ""]
    lines += ["| s_z | s_pos | moved (0-255) | luminance spread | SWD (x1e3) |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['s_z']:g} | {r['s_pos']:g} | {r['moved']:.1f} | {r['spread']:.1f} | {r['swd']:.1f} |")
    lines.append(f"| held-out pictures | | | {held_out:.1f} | |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if args.sheet:  # columns: the settings in order; rows: the seeds
        sheet = Image.new("RGB", (width * len(settings), height * args.n))
        for i, imgs in enumerate(canvases.values()):
            for seed, img in enumerate(imgs):
                sheet.paste(to_pil(img), (i * width, seed * height))
        sheet.save(args.sheet)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
