"""`eval`: N canvases per sampler mode with the same seeds, scored by seam score and SWD against
held-out pictures cropped to the same size; writes a Markdown table and JSON.

    python -m patchdm_core eval --weights weights/patchdm-demo.safetensors --data data/wallpapers/heldout --n 4
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from .data import crops_of, list_images, load_rgb
from .images import save_png, to_pil
from .metrics import seam_score, swd
from .sampler import run


def real_images(folder: str | Path, height: int, width: int) -> torch.Tensor:
    """Held-out pictures resized to cover and centre-cropped to height x width -> [N,3,H,W] in [-1,1]."""
    out = []
    for f in list_images(folder):
        img = load_rgb(f)
        if img is not None:
            crop = crops_of(img, (height, width), "center")[0]
            out.append(torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1))).float() / 127.5 - 1)
    if not out:
        raise ValueError(f"no usable pictures in {folder}")
    return torch.stack(out)


def evaluate(
    pipe,
    data: str | Path,
    *,
    n: int,
    sizes: list[tuple[int, int]],
    modes: list[str],
    positions: list[str | None],
    steps: int | None = None,
    guidance: float | None = None,
    save_dir: Path | None = None,
) -> list[dict]:
    """One row per (size, mode, positions): seam score and SWD of n canvases (seeds 0..n-1)."""
    rows = []
    for height, width in sizes:
        real = real_images(data, height, width)
        seams = [seam_score(r, pipe.p) for r in real]
        rows.append(
            {
                "size": f"{width}x{height}",
                "mode": "held-out pictures",
                "positions": "-",
                "n": len(real),
                "seam": statistics.mean(seams),
                "seam_max": max(seams),
                "swd": 0.0,
                "seconds": 0.0,
            }
        )
        for spec in modes:
            # "feature" is the paper's sampler (fixed grid); "feature-alt" shifts the grid every other step
            mode, alternate = ("feature", spec == "feature-alt") if spec in ("feature", "feature-alt") else (spec, None)
            for pos in positions:
                fakes, start = [], time.perf_counter()
                for seed in range(n):
                    x = (
                        run(
                            pipe.generate(
                                height,
                                width,
                                seed=seed,
                                steps=steps,
                                guidance=guidance,
                                mode=mode,
                                positions=pos,
                                alternate=alternate,
                            )
                        )
                        .float()
                        .cpu()
                    )
                    fakes.append(x)
                    if save_dir is not None:
                        save_png(to_pil(x), save_dir / f"{width}x{height}-{spec}-{pos or 'default'}-{seed}.png")
                seconds = (time.perf_counter() - start) / n
                fake = torch.cat(fakes)
                seams = [seam_score(f, pipe.p) for f in fake]
                row = {
                    "size": f"{width}x{height}",
                    "mode": spec,
                    "positions": pos or pipe.cfg.sampling.positions,
                    "n": n,
                    "seam": statistics.mean(seams),
                    "seam_max": max(seams),
                    "swd": swd(fake, real)["mean"],
                    "seconds": seconds,
                }
                print(
                    f"{row['size']:>10} {spec:>11} {row['positions']:>8}: seam {row['seam']:.3f} "
                    f"SWD {row['swd']:.1f}  {seconds:.0f} s/image",
                    flush=True,
                )
                rows.append(row)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "| size | sampler | positions | n | seam score (mean / max) | SWD (x1e3) | s / image |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        swd_text = "-" if r["mode"] == "held-out pictures" else f"{r['swd']:.1f}"
        secs = "-" if r["mode"] == "held-out pictures" else f"{r['seconds']:.0f}"
        lines.append(
            f"| {r['size']} | {r['mode']} | {r['positions']} | {r['n']} | {r['seam']:.3f} / "
            f"{r['seam_max']:.3f} | {swd_text} | {secs} |"
        )
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    from .cli import add_model_args

    add_model_args(p)
    p.add_argument("--data", type=Path, required=True, help="held-out pictures (never seen in training)")
    p.add_argument("--n", type=int, default=4, help="canvases per size and mode (seeds 0..n-1)")
    p.add_argument("--sizes", default="1024x512,2048x1024", help="comma list of WxH")
    p.add_argument(
        "--modes",
        default="feature,pixel,naive,sliding",
        help="comma list of sampler modes (feature-alt: feature with the grid shifted every other step)",
    )
    p.add_argument("--positions", default="", help="comma list of absolute,stretch to compare (default: the model's)")
    p.add_argument("--steps", type=int, default=None, help="DDIM steps (default: the model's)")
    p.add_argument("--guidance", type=float, default=None, help="guidance scale (default: the model's)")
    p.add_argument("--out", type=Path, default=Path("eval"), help="folder for eval.md and eval.json")
    p.add_argument("--save-images", action="store_true", help="also write every canvas under OUT/images")


def main(args: argparse.Namespace) -> int:
    from .cli import load_pipeline, parse_size

    pipe = load_pipeline(args)
    sizes = [parse_size(s)[::-1] for s in args.sizes.split(",") if s]
    positions = [p for p in args.positions.split(",") if p] or [None]
    rows = evaluate(
        pipe,
        args.data,
        n=args.n,
        sizes=sizes,
        modes=[m for m in args.modes.split(",") if m],
        positions=positions,
        steps=args.steps,
        guidance=args.guidance,
        save_dir=args.out / "images" if args.save_images else None,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python -m patchdm_core eval " + " ".join(args.argv)
    table = markdown(rows)
    (args.out / "eval.md").write_text(f"`{command}`\n\nModel: {pipe.name} ({pipe.model_hash})\n\n{table}\n")
    (args.out / "eval.json").write_text(
        json.dumps({"command": command, "model": pipe.name, "model_hash": pipe.model_hash, "rows": rows}, indent=1)
    )
    print(table)
    print(f"wrote {args.out / 'eval.md'} and {args.out / 'eval.json'}")
    return 0
