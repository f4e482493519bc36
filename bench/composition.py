"""Where a canvas's composition comes from, and how it is brought in, scored against held-out pictures.

Each *arm* paints the same seeds at one size: plain `generate` ("none"), or a layout source (designed,
training-layouts, layout-model) brought in by structure guidance or by img2img. Scored like `eval`'s
composition table: SWD per Laplacian level (finest first) and on 64x32 thumbnails of the whole canvas,
the seam score, and novelty: the RMS distance (colours in [0, 1]) from each canvas's 64x32 thumbnail to the
nearest thumbnail of the training bank or its mirror (the bank's own canvases read about 0.03, copies).

    python bench/composition.py --data data/wallpapers/heldout --size 1024x512 --seeds 0-7 \\
        --arms none,designed:structure,designed:img2img,training-layouts:structure,training-layouts:img2img \\
        --out bench/results/cpu-composition-1024 [--save-images DIR]

Each row also has the counted network arithmetic per canvas (TFLOP: the encoder and decoder patches the run
sent through the network, times their FlopCounterMode FLOPs) and the seconds per canvas.

An arm is SOURCE[:HOW[:key=value;...]] with keys band, strength (structure) or strength (img2img), t_stop,
code (own: the layout's global code; prior: the latent model's for the seed; default: the pipeline's), family,
skip (a head start), steps, sampler, interval (LO-HI guidance interval), guidance, eta, preset (quality, fast).
SOURCE "none" is plain generate (its options: the solver's).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from patchdm_core import PatchDM, run  # noqa: E402
from patchdm_core.cli.common import DEFAULT_WEIGHTS  # noqa: E402
from patchdm_core.composition.sources import DesignedLayouts, LayoutBank, bank_beside, sources_beside  # noqa: E402
from patchdm_core.evaluation.bench import flops_per_patch  # noqa: E402
from patchdm_core.evaluation.evaluate import _composition, _scores, real_images  # noqa: E402
from patchdm_core.runtime.images import save_png, to_pil  # noqa: E402
from patchdm_core.runtime.precision import cpu_name  # noqa: E402
from patchdm_core.runtime.sizes import parse_size  # noqa: E402
from patchdm_core.sampling.presets import preset  # noqa: E402
from patchdm_core.sampling.structure import Structure  # noqa: E402


def parse_arm(text: str) -> dict:
    source, _, rest = text.partition(":")
    how, _, opts = rest.partition(":")
    arm = {"name": text, "source": source, "how": how or "structure"}
    for item in filter(None, opts.split(";")):
        key, _, value = item.partition("=")
        arm[key] = value
    return arm


def paint(pipe: PatchDM, arm: dict, sources: dict, seed: int, height: int, width: int) -> torch.Tensor:
    kw = dict(preset(arm.get("preset")))
    if "guidance" in arm:
        kw["guidance"] = float(arm["guidance"])
    if "eta" in arm:
        kw["eta"] = float(arm["eta"])
    if "steps" in arm:
        kw["steps"] = int(arm["steps"])
    if "sampler" in arm:
        kw["sampler"] = arm["sampler"]
    if "end" in arm:
        kw["ladder_end"] = int(arm["end"])
    if "interval" in arm:
        kw["guidance_interval"] = tuple(int(v) for v in arm["interval"].split("-"))
    if arm["source"] == "none":
        return run(pipe.generate(height, width, seed=seed, **kw))
    if arm["source"] == "designed":
        palettes = sources.get("training-layouts") if arm.get("palette") == "training" else None
        source = DesignedLayouts(arm.get("family"), palettes=palettes, texture=float(arm.get("texture", 1.0)))
    else:
        source = sources[arm["source"]]
    structure = Structure(
        band=int(arm.get("band", 16)),
        strength=float(arm.get("strength", 1.0)),
        t_stop=int(arm.get("t_stop", 0)),
        t_full=int(arm.get("t_full", 0)),
        skip=float(arm.get("skip", 0.0)),
    )
    own = {"own": True, "prior": False}.get(arm.get("code", ""))  # None: the pipeline's default for `how`
    if arm["how"] == "img2img":
        it = pipe.compose(source, height, width, seed=seed, how="img2img", strength=float(arm.get("strength", 0.6)),
                          own_code=own, **kw)  # fmt: skip
    else:
        it = pipe.compose(source, height, width, seed=seed, structure=structure, own_code=own, **kw)
    return run(it)


def seeds_of(text: str) -> list[int]:
    if "-" in text:
        lo, hi = (int(v) for v in text.split("-"))
        return list(range(lo, hi + 1))
    return [int(v) for v in text.split(",")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--size", default="1024x512")
    ap.add_argument("--seeds", default="0-7")
    ap.add_argument("--arms", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--save-images", type=Path, default=None)
    args = ap.parse_args()
    width, height = parse_size(args.size)
    seeds = seeds_of(args.seeds)
    pipe = PatchDM.load(args.weights, device="cpu")
    sources, _ = sources_beside(args.weights)
    bank = LayoutBank.load(bank_beside(args.weights))
    real = real_images(args.data, height, width)
    rows = []
    args.out.mkdir(parents=True, exist_ok=True)
    enc_flop, dec_flop = flops_per_patch(pipe)
    counts = {"encode": 0, "decode": 0}
    unet = pipe.model.unet
    for half in ("encode", "decode"):  # count the patches every call sends through the network
        fn = getattr(unet, half)

        def counted(x, *a, _fn=fn, _half=half):  # noqa: ANN001, ANN202
            counts[_half] += (x if _half == "encode" else x[-1]).shape[0]
            return _fn(x, *a)

        setattr(unet, half, counted)
    for text in args.arms.split(","):
        arm = parse_arm(text)
        start, fakes = time.perf_counter(), []
        counts.update(encode=0, decode=0)
        for seed in seeds:
            fakes.append(paint(pipe, arm, sources, seed, height, width).float().cpu())
            if args.save_images:
                args.save_images.mkdir(parents=True, exist_ok=True)
                save_png(to_pil(fakes[-1]), args.save_images / f"{args.size}-{text.replace(':', '_')}-{seed}.png")
        fake = torch.cat(fakes)
        novelty = bank.nearest(fake)
        row = {"arm": text, "n": len(seeds), "seconds": (time.perf_counter() - start) / len(seeds)}
        flop = (counts["encode"] * enc_flop + counts["decode"] * dec_flop) / len(seeds)
        row |= {"tflop": flop / 1e12, "patches": {k: v / len(seeds) for k, v in counts.items()}}
        row |= _scores(fake, pipe.p) | _composition(fake, real)
        row |= {"novelty": [float(v) for v in novelty], "novelty_median": float(novelty.median())}
        rows.append(row)
        lv = " / ".join(f"{v:.0f}" for v in row["swd_levels"])
        cost = f"{row['tflop']:.2f} TFLOP {row['seconds']:.1f} s"
        print(f"{text:>48}: levels {lv} thumb64 {row['thumb64']:.0f} seam {row['seam']:.2f} "
              f"novelty {row['novelty_median']:.3f} {cost}", flush=True)  # fmt: skip
        write(args, rows)
    return 0


def write(args: argparse.Namespace, rows: list[dict]) -> None:
    meta = {"command": "python " + " ".join(sys.argv), "cpu": cpu_name()}
    (args.out / "composition.json").write_text(json.dumps({**meta, "rows": rows}, indent=1))
    base = rows[0]
    lines = [f"`{meta['command']}`", "", f"CPU: {meta['cpu']}", ""]
    head = "| arm | n | SWD per level (finest first) | thumbnail 64x32 (mean) | seam | novelty (median) | TFLOP | s |"
    lines += [head, "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lv = " / ".join(f"{v:.0f}" for v in r["swd_levels"])
        rel = 100 * (r["thumb64"] / base["thumb64"] - 1)
        fine = 100 * (r["swd_levels"][0] / base["swd_levels"][0] - 1)
        lines.append(
            f"| {r['arm']} | {r['n']} | {lv} ({fine:+.0f}% finest) | {r['thumb64']:.0f} ({rel:+.0f}%) | "
            f"{r['seam']:.2f} | {r['novelty_median']:.3f} | {r['tflop']:.2f} | {r['seconds']:.1f} |"
        )
    lines += ["", "Percentages against the first arm."]
    (args.out / "composition.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
