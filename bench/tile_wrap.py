"""How well tileable pictures wrap: for each size, the mean |difference| across the wrap line over the mean
between neighbouring columns (rows) elsewhere, per axis, mean of the seeds (1.0 = no seam), beside the
spread of single interior lines (their 50/90/99th percentile of the same ratio).

    python bench/tile_wrap.py 360x200:6 1000x600:4 1080x2400 3840x2160 [--weights W.safetensors]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from patchdm_core import PatchDM, run  # noqa: E402
from patchdm_core.cli.common import DEFAULT_WEIGHTS  # noqa: E402
from patchdm_core.evaluation.metrics import wrap_seam_score  # noqa: E402
from patchdm_core.runtime.precision import cpu_name  # noqa: E402
from patchdm_core.runtime.sizes import parse_size  # noqa: E402


def interior_lines(x: torch.Tensor, axis: str) -> list[float]:
    """Quantiles 0.5 / 0.9 / 0.99 of each interior line's mean |difference| over the mean of all of them."""
    img = (x[0].float().clamp(-1, 1) + 1) * 127.5
    if axis == "x":
        d = (img[:, :, 1:] - img[:, :, :-1]).abs().mean(dim=(0, 1))
    else:
        d = (img[:, 1:, :] - img[:, :-1, :]).abs().mean(dim=(0, 2))
    return torch.quantile(d / d.mean(), torch.tensor([0.5, 0.9, 0.99])).tolist()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="+", help="WxH[:seeds] (default 1 seed)")
    ap.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    args = ap.parse_args()
    pipe = PatchDM.load(args.weights, device="cpu")
    print(f"model {pipe.name} ({pipe.model_hash}); CPU: {cpu_name()}; sampler: the model's defaults")
    for spec in args.sizes:
        size, _, seeds = spec.partition(":")
        w, h = parse_size(size)
        grid = pipe.grid_size(h, w, True)
        ratios = {"x": [], "y": []}
        for seed in range(int(seeds or 1)):
            tile = run(pipe.generate(h, w, seed=seed, tileable=True))
            for axis in ratios:
                ratios[axis].append(wrap_seam_score(tile, axis))
        for axis, values in ratios.items():
            lines = ", ".join(f"{q:.2f}" for q in interior_lines(tile, axis))
            print(
                f"{w}x{h} (painted on {grid[1]}x{grid[0]}) wrap {axis}: mean {sum(values) / len(values):.2f} over "
                f"{len(values)} seed(s) {[round(v, 2) for v in values]}; interior lines q50/90/99 {lines}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
