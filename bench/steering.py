"""Image-to-image and upscale on the shipped weights: layout fidelity of a colour sketch against strength,
detail added by an upscale against a plain Lanczos resize, and peak memory of a 4096x2048 upscale.

    python bench/steering.py --weights weights/patchdm-demo.safetensors --out bench/results/cpu-steering

- Sketch: a 4-colour blocky layout (sky blue over dark green over brown, a sun disc) at 1024x512; the
  output and the sketch are 16x box-downsampled and compared (mean absolute difference, [0, 1] units)
  at several strengths; seam score of each output beside `generate`'s with the same seed and settings.
- Upscale: a generated 1024x512 picture to 2048x1024 at strength 0.4; mean absolute Laplacian (detail)
  of the result over that of the Lanczos resize, and the result 2x-downsampled against the input (MAD).
- Memory: peak RSS of a 1024x512 -> 4096x2048 upscale in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from patchdm_core import PatchDM, run, to_pil  # noqa: E402
from patchdm_core.editing.img2img import resize  # noqa: E402
from patchdm_core.evaluation.metrics import seam_score  # noqa: E402
from patchdm_core.runtime.images import from_pil  # noqa: E402
from patchdm_core.runtime.precision import cpu_name  # noqa: E402


def layout_sketch(width: int = 1024, height: int = 512) -> Image.Image:
    """Sky blue over dark green over brown, with a sun disc: the layout an artist blocks in first."""
    img = Image.new("RGB", (width, height), (135, 206, 235))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, int(height * 0.45), width, int(height * 0.7)), fill=(31, 95, 42))
    draw.rectangle((0, int(height * 0.7), width, height), fill=(122, 82, 48))
    r = height // 8
    cx, cy = int(width * 0.76), int(height * 0.22)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 210, 63))
    return img


def down(x: torch.Tensor, k: int) -> torch.Tensor:
    """k x k box average in [0, 1] units."""
    return F.avg_pool2d((x.float() + 1) / 2, k)


def mad(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().mean())


def detail(x: torch.Tensor) -> float:
    """Mean absolute Laplacian (3x3, per channel) in [0, 1] units: high-frequency energy."""
    k = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]).view(1, 1, 3, 3).repeat(3, 1, 1, 1)
    return float(F.conv2d((x.float() + 1) / 2, k, groups=3).abs().mean())


def peak_upscale_rss(weights: str, seed: int) -> dict:
    code = (
        "import sys, resource, time; sys.path.insert(0, '.');"
        "from patchdm_core import PatchDM, run;"
        f"pipe = PatchDM.load('{weights}', device='cpu');"
        f"x = run(pipe.generate(512, 1024, seed={seed}));"
        "t = time.perf_counter();"
        f"y = run(pipe.upscale(x, size=(2048, 4096), strength=0.4, seed={seed}));"
        "print(y.shape[-1], y.shape[-2], time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    w, h, seconds, kb = out.stdout.split()[-4:]
    return {"size": f"{w}x{h}", "seconds": float(seconds), "peak_rss_gib": int(kb) / 2**20}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="weights/patchdm-demo.safetensors")
    ap.add_argument("--seed", type=int, default=1, help="seed of the sketch runs")
    ap.add_argument("--upscale-seed", type=int, default=2, help="seed of the picture to upscale (1 is near-black)")
    ap.add_argument("--strengths", default="0.3,0.6,0.75,0.9")
    ap.add_argument("--out", type=Path, default=Path("bench/results/cpu-steering"))
    ap.add_argument("--images", type=Path, default=None, help="also save the pictures here")
    args = ap.parse_args()
    pipe = PatchDM.load(args.weights, device="cpu")
    sketch = layout_sketch()
    target = down(from_pil(sketch), 16)
    base = run(pipe.generate(512, 1024, seed=args.seed, z=pipe.encode_style(sketch)))
    rows = []
    for strength in [float(s) for s in args.strengths.split(",")]:
        start = time.perf_counter()
        out = run(pipe.img2img(sketch, strength=strength, seed=args.seed))
        rows.append(
            {
                "strength": strength,
                "layout_mad": mad(down(out, 16), target),
                "seam": seam_score(out, pipe.p),
                "seam_generate": seam_score(base, pipe.p),
                "seconds": time.perf_counter() - start,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
        if args.images:
            args.images.mkdir(parents=True, exist_ok=True)
            to_pil(out).save(args.images / f"sketch-{strength:g}.png")
    small = run(pipe.generate(512, 1024, seed=args.upscale_seed))
    start = time.perf_counter()
    big = run(pipe.upscale(small, scale=2, strength=0.4, seed=args.upscale_seed))
    up_seconds = time.perf_counter() - start
    lanczos = resize(small, 1024, 2048)
    upscale = {
        "size": "1024x512 -> 2048x1024",
        "strength": 0.4,
        "detail_ratio": detail(big) / detail(lanczos),
        "downsampled_mad": mad(down(big, 2), (small.float() + 1) / 2),
        "seconds": up_seconds,
    }
    print(json.dumps(upscale), flush=True)
    if args.images:
        for name, x in (("sketch", from_pil(sketch)), ("upscale-in", small), ("upscale", big), ("lanczos", lanczos)):
            to_pil(x).save(args.images / f"{name}.png")
    memory = peak_upscale_rss(args.weights, args.upscale_seed)
    print(json.dumps(memory), flush=True)
    command = "python bench/steering.py " + " ".join(sys.argv[1:])
    result = {"command": command, "cpu": cpu_name(), "sketch": rows, "upscale": upscale, "upscale_4096": memory}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1))
    lines = [
        f"`{command}` ({cpu_name()}, {time.strftime('%Y-%m-%d')}; the model's default sampler settings)",
        "",
        "| sketch strength | layout MAD (16x down) | seam | seam of generate (same seed) | s |",
        "|---|---|---|---|---|",
        *[
            f"| {r['strength']:g} | {r['layout_mad']:.3f} | {r['seam']:.3f} | {r['seam_generate']:.3f} "
            f"| {r['seconds']:.0f} |"
            for r in rows
        ],
        "",
        f"Upscale {upscale['size']} at strength 0.4: detail (mean |Laplacian|) {upscale['detail_ratio']:.2f}x the "
        f"Lanczos resize; 2x-downsampled MAD to the input {upscale['downsampled_mad']:.3f}; "
        f"{upscale['seconds']:.0f} s.",
        "",
        f"Upscale 1024x512 -> {memory['size']}: peak RSS {memory['peak_rss_gib']:.2f} GiB, {memory['seconds']:.0f} s.",
    ]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
