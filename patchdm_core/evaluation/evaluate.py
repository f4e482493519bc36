"""The evaluation behind `eval`: N canvases per sampler setting with the same seeds, scored against held-out pictures
cropped to the same size; writes a Markdown table and JSON.

One row per (size, mode, positions, grid rule, solver:steps, eta): seam score (on the canvas's own
64-px grid), lattice score (the seam score at the worst grid phase: it finds seams a moving grid
left elsewhere), grain (mean |Laplacian|: fine detail; the held-out pictures' own value is in their
row), SWD against the held-out pictures, seconds per image.

    python -m patchdm_core eval --data data/wallpapers/heldout --n 4 --sizes 1024x512 \\
        --grids fixed,alternate,random --samplers ddim:25,dpmpp-2m:10,dpmpp-2m:15 --etas 0,0.5
"""

from __future__ import annotations

import itertools
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..runtime.images import save_png, to_pil
from ..runtime.pictures import crops_of, list_images, load_rgb
from ..runtime.precision import cpu_name
from ..sampling.solvers import run
from .metrics import grain, lattice_score, seam_score, streaks, swd


@dataclass(frozen=True)
class Setting:
    """One sampler setting of the table."""

    mode: str = "feature"
    grid: str = "fixed"  # feature mode only ("-" otherwise)
    sampler: str = "ddim"
    steps: int = 25
    eta: float = 0.0
    positions: str | None = None  # None: the model's

    @property
    def name(self) -> str:
        return f"{self.mode}-{self.grid}-{self.sampler}{self.steps}-eta{self.eta:g}-{self.positions or 'default'}"


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


def settings_grid(
    modes: list[str], grids: list[str], samplers: list[tuple[str, int]], etas: list[float], positions: list[str | None]
) -> list[Setting]:
    """The product of the choices; the grid rule only varies for feature mode."""
    out = []
    for mode, pos, (sampler, steps), eta in itertools.product(modes, positions, samplers, etas):
        for grid in grids if mode == "feature" else ["-"]:
            out.append(Setting(mode, grid, sampler, steps, eta, pos))
    return out


def _scores(images: torch.Tensor, p: int) -> dict[str, float]:
    seams = [seam_score(x, p) for x in images]
    try:
        lattice = statistics.mean(lattice_score(x, p) for x in images)
    except ValueError:  # fewer than three patches along a side: no lattice to speak of
        lattice = float("nan")
    fine = statistics.mean(grain(x) for x in images)
    direction = statistics.median(streaks(x) for x in images)  # a picture of flat bands alone scores 0 or inf
    return {
        "seam": statistics.mean(seams),
        "seam_max": max(seams),
        "lattice": lattice,
        "grain": fine,
        "streaks": direction,
    }


def evaluate(
    pipe,
    data: str | Path,
    *,
    n: int,
    sizes: list[tuple[int, int]],
    settings: list[Setting],
    guidance: float | None = None,
    save_dir: Path | None = None,
    on_row=None,
) -> list[dict]:
    """One row per (size, setting): seam and lattice score, SWD of n canvases (seeds 0..n-1), s/image.

    `on_row(rows)` runs after every row (the command line rewrites its tables: a long run that is cut
    short keeps what it measured)."""
    rows = []
    for height, width in sizes:
        real = real_images(data, height, width)
        size = f"{width}x{height}"
        rows.append({"size": size, "setting": "held-out pictures", "n": len(real), "swd": 0.0, "seconds": 0.0})
        rows[-1] |= _scores(real, pipe.p)
        for st in settings:
            fakes, start = [], time.perf_counter()
            for seed in range(n):
                it = pipe.generate(
                    height,
                    width,
                    seed=seed,
                    steps=st.steps,
                    guidance=guidance,
                    eta=st.eta,
                    mode=st.mode,
                    positions=st.positions,
                    grid=st.grid if st.mode == "feature" else None,
                    sampler=st.sampler,
                )
                fakes.append(run(it).float().cpu())
                if save_dir is not None:
                    save_png(to_pil(fakes[-1]), save_dir / f"{size}-{st.name}-{seed}.png")
            seconds = (time.perf_counter() - start) / n
            fake = torch.cat(fakes)
            row = {
                "size": size,
                "setting": st.name,
                **{k: v for k, v in vars(st).items()},
                "positions": st.positions or pipe.cfg.sampling.positions,
                "n": n,
                **_scores(fake, pipe.p),
                "swd": swd(fake, real)["mean"],
                "seconds": seconds,
            }
            print(
                f"{size:>10} {st.mode:>8} {st.grid:>9} {st.sampler:>8}:{st.steps:<3} eta {st.eta:<4g}: "
                f"seam {row['seam']:.3f} lattice {row['lattice']:.3f} grain {row['grain']:.1f} "
                f"streaks {row['streaks']:.2f} SWD {row['swd']:.1f}  "
                f"{seconds:.0f} s/image",
                flush=True,
            )
            rows.append(row)
            if on_row is not None:
                on_row(rows)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "| size | mode | positions | grid | sampler | steps | eta | n | seam (mean / max) | lattice | grain "
        "| streaks | SWD (x1e3) | s / image |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lattice = "-" if r["lattice"] != r["lattice"] else f"{r['lattice']:.3f}"  # nan: canvas too small
        seam = f"{r['seam']:.3f} / {r['seam_max']:.3f}"
        fine = f"{r['grain']:.1f}" if "grain" in r else "-"  # tables written before the column
        direction = f"{r['streaks']:.2f}" if "streaks" in r else "-"
        scores = f"{seam} | {lattice} | {fine} | {direction}"
        if r["setting"] == "held-out pictures":
            blank = "| - " * 5
            lines.append(f"| {r['size']} | held-out pictures {blank}| {r['n']} | {scores} | - | - |")
            continue
        lines.append(
            f"| {r['size']} | {r['mode']} | {r['positions']} | {r['grid']} | {r['sampler']} | {r['steps']} | "
            f"{r['eta']:g} | {r['n']} | {scores} | {r['swd']:.1f} | {r['seconds']:.0f} |"
        )
    return "\n".join(lines)


def write_report(out: Path, rows: list[dict], *, command: str, model: str, model_hash: str) -> None:
    """OUT/eval.md (the command, the model, the CPU and the table) and OUT/eval.json (the same, as rows)."""
    out.mkdir(parents=True, exist_ok=True)
    head = f"`{command}`\n\nModel: {model} ({model_hash}); CPU: {cpu_name()}\n\n"
    (out / "eval.md").write_text(head + markdown(rows) + "\n")
    meta = {"command": command, "model": model, "model_hash": model_hash, "cpu": cpu_name()}
    (out / "eval.json").write_text(json.dumps({**meta, "rows": rows}, indent=1))
