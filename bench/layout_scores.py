"""The layouts themselves, before any painting: each source's layouts, enlarged to the canvas, scored against the
held-out pictures like the painted canvases are (SWD per Laplacian level and on 64x32 thumbnails). A source
whose layouts are far from the held-out pictures' at the thumbnail scales cannot paint canvases that are near
them there: structure guidance gives a canvas its layout's large shapes.

    python bench/layout_scores.py --data data/heldout-13 --size 1024x512 --n 16 \\
        --out bench/results/cpu-composition/layouts-1024
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from patchdm_core.cli.common import DEFAULT_WEIGHTS  # noqa: E402
from patchdm_core.composition.designs import FAMILIES  # noqa: E402
from patchdm_core.composition.sources import DesignedLayouts, LayoutBank, bank_beside, layout_of, model_beside  # noqa: E402
from patchdm_core.evaluation.evaluate import _composition, real_images  # noqa: E402
from patchdm_core.model.layout import load_layout_model  # noqa: E402
from patchdm_core.runtime.precision import cpu_name  # noqa: E402
from patchdm_core.runtime.sizes import parse_size  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    ap.add_argument("--layout-model", type=Path, default=None, help="default: the one beside the weights")
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--size", default="1024x512")
    ap.add_argument("--n", type=int, default=16, help="layouts per source (seeds 0..n-1)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    width, height = parse_size(args.size)
    real = real_images(args.data, height, width)
    bank = LayoutBank.load(bank_beside(args.weights))
    sources = {
        "training-layouts": bank,
        "layout-model": load_layout_model(args.layout_model or model_beside(args.weights)),
        "designed (any family)": DesignedLayouts(),
        "designed, flat fills": DesignedLayouts(texture=0.0),
        "designed, training palettes": DesignedLayouts(palettes=bank),
    } | {f"designed: {f}": DesignedLayouts(f) for f in FAMILIES}
    rows = []
    for name, source in sources.items():
        layouts = torch.cat([layout_of(source, seed, height, width) for seed in range(args.n)])
        c = _composition(layouts, real)
        novelty = float(bank.nearest(layouts).median())
        rows.append({"source": name, "novelty": novelty, **c})
        lv = " / ".join(f"{v:.0f}" for v in c["swd_levels"])
        print(f"{name:>30}: levels {lv} thumb64 {c['thumb64']:.0f} novelty {novelty:.3f}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = "python " + " ".join(sys.argv)
    args.out.with_suffix(".json").write_text(
        json.dumps({"command": command, "cpu": cpu_name(), "rows": rows}, indent=1)
    )
    lines = [
        f"`{command}`",
        "",
        "| layouts | SWD per level (finest first) | thumbnail 64x32: per level / mean | novelty |",
    ]
    lines += ["|---|---|---|---|"]
    for r in rows:
        lv = " / ".join(f"{v:.0f}" for v in r["swd_levels"])
        tl = " / ".join(f"{v:.0f}" for v in r["thumb64_levels"])
        lines.append(f"| {r['source']} | {lv} | {tl} / **{r['thumb64']:.0f}** | {r['novelty']:.3f} |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
