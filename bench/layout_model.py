"""The layouts themselves, before any painting: how near the layout model's samples, and the bank's
thumbnails, come to the held-out pictures' own layouts, and how new the samples are.

- thumbnail SWD (64 px and 32 px long side): what `eval`'s composition table scores on painted canvases,
  here on the 64x32 layouts (the held-out pictures shrunk the same way are the reference);
- smooth share: metrics.smooth_share of the layouts enlarged to 1024x512 (the share of large smooth regions);
- novelty: each layout's distance (RMS over the 64x32 thumbnail, [-1, 1] scale) to its nearest training
  thumbnail (every usable training picture, centre crop, and its mirror). A model that learned its pictures
  by heart reads near 0; the held-out pictures' own distance to the training set is the yardstick for new.

    python bench/layout_model.py --model weights/patchdm-demo-layout.safetensors \\
        --bank weights/patchdm-demo-layouts.png --train data/wallpapers-1024-v2-nowood \\
        --heldout data/wallpapers/heldout --n 64 --out bench/results/cpu-layout-model
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from patchdm_core.composition.sources import LayoutBank, layout_of  # noqa: E402
from patchdm_core.evaluation.evaluate import real_images  # noqa: E402
from patchdm_core.evaluation.metrics import smooth_share, swd, thumbnail  # noqa: E402
from patchdm_core.model.layout import load_layout_model  # noqa: E402
from patchdm_core.runtime.precision import cpu_name  # noqa: E402
from patchdm_core.training.layout import LayoutPictures  # noqa: E402


def nearest(layouts: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """[N] RMS distance of each layout to its nearest training thumbnail (or its mirror)."""
    pool = torch.cat([train, train.flip(-1)]).flatten(1)
    return torch.cdist(layouts.flatten(1), pool).min(dim=1).values / pool.shape[1] ** 0.5


def row(name: str, layouts: torch.Tensor, real: torch.Tensor, train: torch.Tensor) -> dict:
    big = F.interpolate(layouts, size=(512, 1024), mode="bicubic", align_corners=False).clamp(-1, 1)
    near = nearest(layouts, train)
    return {
        "source": name,
        "n": len(layouts),
        "thumb64": swd(layouts, thumbnail(real, 64))["mean"],
        "thumb32": swd(thumbnail(layouts, 32), thumbnail(real, 32))["mean"],
        "smooth": sum(smooth_share(x) for x in big) / len(big),
        "nearest_median": float(near.median()),
        "nearest_min": float(near.min()),
        "share_copies": float((near < 0.05).float().mean()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True, help="the layout model")
    ap.add_argument("--bank", type=Path, default=None, help="the layout bank, for its row")
    ap.add_argument("--train", type=Path, required=True, help="the training pictures (for novelty)")
    ap.add_argument("--heldout", type=Path, required=True, help="the held-out pictures")
    ap.add_argument("--n", type=int, default=64, help="layouts per source (seeds 0..n-1)")
    ap.add_argument("--steps", type=int, default=50, help="the model's DDIM steps")
    ap.add_argument("--out", type=Path, required=True, help="folder for layout-model.md/json and the sheet")
    args = ap.parse_args()
    torch.manual_seed(0)
    model = load_layout_model(args.model)
    h, w = 32, 64  # every source's layouts at the 64x32 the scores read (a smaller model's enlarged, as a canvas's)
    train = LayoutPictures(args.train, (h, w), log=lambda _: None).centre()
    real = real_images(args.heldout, 512, 1024)
    held = thumbnail(real, 64)
    start = time.perf_counter()
    sampled = torch.cat([layout_of(model, s, h, w) for s in range(args.n)])
    seconds = (time.perf_counter() - start) / args.n
    rows = [row("held-out pictures (yardstick)", held, real, train)]
    if args.bank:
        bank = LayoutBank.load(args.bank)
        rows.append(
            row(
                "layout bank (training thumbnails)",
                torch.cat([layout_of(bank, s, h, w) for s in range(args.n)]),
                real,
                train,
            )
        )
    rows.append(row(f"layout model ({model.metadata.get('train_steps', '?')} steps)", sampled, real, train))
    args.out.mkdir(parents=True, exist_ok=True)
    from torchvision.utils import save_image

    save_image((sampled[:32] + 1) / 2, args.out / "layouts.png", nrow=8, padding=1)
    command = "python bench/layout_model.py " + " ".join(sys.argv[1:])
    lines = [
        f"`{command}`",
        "",
        f"{cpu_name()}; {seconds:.2f} s per sampled layout ({args.steps} DDIM steps); the model: {model.metadata}",
        "",
        "| layouts | n | thumbnail SWD 64 px | 32 px | smooth share | nearest training thumbnail: median / min "
        "| near-copies (< 0.05) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['source']} | {r['n']} | {r['thumb64']:.1f} | {r['thumb32']:.1f} | {r['smooth']:.2f} | "
            f"{r['nearest_median']:.3f} / {r['nearest_min']:.3f} | {r['share_copies']:.0%} |"
        )
    (args.out / "layout-model.md").write_text("\n".join(lines) + "\n")
    (args.out / "layout-model.json").write_text(json.dumps({"command": command, "rows": rows}, indent=1))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
