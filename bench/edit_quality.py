"""How well edits join their border, by repaint strength, on held-out pictures (issue: demo model v2).

For each picture (resized to --size), one inpaint of a centred box (fast at every strength in
--strengths, harmonized at those in --harmonized) and one outpaint of a strip on the right, same seeds,
the model's default sampler settings. Per job and strength, the means over pictures:

- border: metrics.mask_seam_score at the keep mask's boundary (1.0: the border is invisible);
- grain: mean |Laplacian| inside the painted area over the same outside it (1.0: the same texture
  strength as the picture; the demo model paints a grain that smooth pictures lack);
- change: mean |output - starting fill| inside the painted area, in [0, 2] units (0: strength too low
  to paint anything new).

    python bench/edit_quality.py --pictures data/wallpapers/heldout --out bench/results/cpu-edit-quality
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from PIL import Image  # noqa: E402

from patchdm_core import PatchDM, run  # noqa: E402
from patchdm_core.editing.fill import fill_hole, mirror_fill
from patchdm_core.editing.regions import grow_canvas  # noqa: E402
from patchdm_core.evaluation.metrics import grain, mask_seam_score  # noqa: E402
from patchdm_core.runtime.images import from_pil, to_pil  # noqa: E402
from patchdm_core.runtime.precision import cpu_name  # noqa: E402
from patchdm_core.sampling.presets import preset  # noqa: E402


def grain_ratio(x: torch.Tensor, inside: torch.Tensor) -> float:
    """metrics.grain where inside > 0.5 over the same outside it (1.0: the picture's own texture strength)."""
    return grain(x, inside) / max(grain(x, 1 - inside), 1e-8)


def jobs(image: torch.Tensor, box: int, strip: int, p: int, fill: str):
    """(name, kwargs builder, keep mask of the result, starting fill) for the inpaint and outpaint jobs."""
    h, w = image.shape[-2:]
    keep = torch.ones(1, 1, h, w)
    top, left = (h - box) // 2, (w - box) // 2
    keep[..., top : top + box, left : left + box] = 0
    start = fill_hole(image, keep, how=fill)
    yield "inpaint", {"method": "inpaint", "keep_mask": keep, "fill": fill}, keep, start
    yield "inpaint harmonized", {"method": "harmonized", "keep_mask": keep, "fill": fill}, keep, start
    canvas, grown_keep, (top, left) = grow_canvas(image, (0, strip, 0, 0), p)
    start = mirror_fill(canvas, (top, left, h, w))
    yield "outpaint", {"method": "outpaint", "pad": (0, strip, 0, 0)}, grown_keep, start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="weights/patchdm-demo.safetensors")
    ap.add_argument("--pictures", type=Path, default=Path("data/wallpapers/heldout"))
    ap.add_argument("--size", default="512x256", help="WxH every picture is resized to")
    ap.add_argument("--box", type=int, default=128, help="side of the inpainted square")
    ap.add_argument("--strip", type=int, default=128, help="width of the outpainted strip")
    ap.add_argument("--strengths", default="1.0,0.8,0.7,0.6,0.5")
    ap.add_argument("--harmonized", default="1.0,0.7", help="strengths of the harmonized inpaint (4.6x the cost)")
    ap.add_argument("--n", type=int, default=8, help="pictures (sorted by name)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--anchor", type=int, default=8, help="low-pass factor of the colour anchor (0 = off)")
    ap.add_argument("--fill", default="structure", choices=["structure", "smooth"], help="inpaint's starting fill")
    ap.add_argument("--no-match-detail", action="store_true", help="keep the model's own detail strength")
    ap.add_argument("--sheet", type=Path, default=None, help="also write a contact sheet PNG here")
    ap.add_argument("--preset", default=None, help="sampling preset (quality, fast; default: the model's defaults)")
    ap.add_argument("--out", type=Path, default=Path("bench/results/cpu-edit-quality"))
    args = ap.parse_args()
    torch.manual_seed(0)
    width, height = (int(v) for v in args.size.split("x"))
    strengths = [float(s) for s in args.strengths.split(",")]
    pipe = PatchDM.load(args.weights, device="cpu")
    files = sorted(f for f in args.pictures.iterdir() if f.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"))
    files = files[: args.n]
    rows: dict[tuple[str, float], list[dict[str, float]]] = {}
    sheet: list[torch.Tensor] = []
    start = time.perf_counter()
    for i, f in enumerate(files):
        image = from_pil(Image.open(f).convert("RGB").resize((width, height), Image.Resampling.LANCZOS))
        for name, spec, keep, fill in jobs(image, args.box, args.strip, pipe.p, args.fill):
            for s in [float(v) for v in args.harmonized.split(",")] if spec["method"] == "harmonized" else strengths:
                kw = {"seed": args.seed + i, "strength": s, "anchor": args.anchor, **preset(args.preset)}
                kw["match_detail"] = not args.no_match_detail
                if spec["method"] in ("inpaint", "harmonized"):
                    method = "harmonized" if spec["method"] == "harmonized" else "fast"
                    out = run(pipe.inpaint(image, spec["keep_mask"], method=method, fill=spec["fill"], **kw))
                else:
                    out = run(pipe.outpaint(image, spec["pad"], **kw))
                painted = (keep < 0.5).float()
                change = float((out - fill).abs().mean(1, keepdim=True)[painted > 0].mean())
                rows.setdefault((name, s), []).append(
                    {"border": mask_seam_score(out, keep), "grain": grain_ratio(out, painted), "change": change}
                )
                if i < 3 and spec["method"] != "harmonized":
                    sheet.append(out[..., :height, :width] if name == "inpaint" else out[..., :height, -width:])
        print(f"{f.name}: done ({time.perf_counter() - start:.0f} s)", flush=True)
    table = []
    for (name, s), items in rows.items():
        mean = {k: sum(r[k] for r in items) / len(items) for k in items[0]}
        table.append({"job": name, "strength": s, **{k: round(v, 3) for k, v in mean.items()}, "n": len(items)})
    command = "python bench/edit_quality.py " + " ".join(sys.argv[1:])
    meta = {"cpu": cpu_name(), "threads": torch.get_num_threads(), "weights": pipe.model_hash, "command": command}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps({"meta": meta, "rows": table}, indent=1))
    lines = [f"Measured with `{command}` ({meta['cpu']}, model {meta['weights']}).", ""]
    lines += ["| job | strength | border | grain | change | pictures |", "|---|---|---|---|---|---|"]
    cells = ("job", "strength", "border", "grain", "change", "n")
    lines += ["| " + " | ".join(str(r[c]) for c in cells) + " |" for r in table]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if args.sheet and sheet:
        per_row = len(strengths)
        canvas = Image.new("RGB", (width * per_row, height * (len(sheet) // per_row)))
        for k, x in enumerate(sheet):
            canvas.paste(to_pil(x), (width * (k % per_row), height * (k // per_row)))
        canvas.save(args.sheet)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
