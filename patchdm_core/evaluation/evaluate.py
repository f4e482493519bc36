"""`eval`: N canvases per sampler setting with the same seeds, scored against held-out pictures
cropped to the same size; writes a Markdown table and JSON.

One row per (size, mode, positions, grid rule, solver:steps, eta): seam score (on the canvas's own
64-px grid), lattice score (the seam score at the worst grid phase: it finds seams a moving grid
left elsewhere), grain (mean |Laplacian|: fine detail; the held-out pictures' own value is in their
row), SWD against the held-out pictures, seconds per image.

    python -m patchdm_core eval --data data/wallpapers/heldout --n 4 --sizes 1024x512 \\
        --grids fixed,alternate,random --samplers ddim:25,dpmpp-2m:10,dpmpp-2m:15 --etas 0,0.5
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..runtime import checks
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


def _size(text: str) -> tuple[int, int]:
    from ..runtime.sizes import parse_size

    try:
        return parse_size(text)
    except argparse.ArgumentTypeError as exc:
        raise ValueError(str(exc)) from None


def _samplers(text: str, default: tuple[str, int]) -> list[tuple[str, int]]:
    """'ddim:25,dpmpp-2m:10' -> [("ddim", 25), ("dpmpp-2m", 10)]; a bare name takes the default steps."""
    out = []
    for part in [s for s in text.split(",") if s]:
        name, _, steps = part.partition(":")
        out.append((name, checks.number("steps", steps, integer=True) if steps else default[1]))
    return out or [default]


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    from ..cli.common import add_model_args

    add_model_args(p)
    p.add_argument("--data", type=Path, required=True, help="held-out pictures (never seen in training)")
    p.add_argument(
        "--n", type=checks.arg("n", integer=True, lo=1, hi=10000), default=4, help="canvases per size and setting"
    )
    p.add_argument("--sizes", default="1024x512,2048x1024", help="comma list of WxH")
    p.add_argument("--modes", default="feature,pixel,naive,sliding", help="comma list of sampler modes")
    p.add_argument(
        "--grids", default="", help="feature mode: comma list of fixed,alternate,random (default: the model's)"
    )
    p.add_argument(
        "--samplers", default="", help="comma list of solver:steps, e.g. ddim:25,dpmpp-2m:12 (default: the model's)"
    )
    p.add_argument("--etas", default="", help="comma list of eta values (default: the model's)")
    p.add_argument("--positions", default="", help="comma list of absolute,stretch to compare (default: the model's)")
    p.add_argument(
        "--guidance", type=checks.arg("guidance"), default=None, help="guidance scale (default: the model's)"
    )
    p.add_argument("--out", type=Path, default=Path("eval"), help="folder for eval.md and eval.json")
    p.add_argument("--save-images", action="store_true", help="also write every canvas under OUT/images")


def main(args: argparse.Namespace) -> int:
    from ..cli.common import load_pipeline
    from ..sampling.denoiser import GRIDS, MODES
    from ..sampling.solvers import get_sampler

    if not args.data.is_dir():
        raise ValueError(f"--data {args.data} is not a folder of held-out pictures")
    args.device = checks.device(args.device)
    sizes = [_size(s)[::-1] for s in args.sizes.split(",") if s]
    etas = [checks.number("eta", e) for e in args.etas.split(",") if e]
    pipe = load_pipeline(args)
    d = pipe.cfg.sampling
    modes = [m for m in args.modes.split(",") if m]
    grids = [g for g in args.grids.split(",") if g] or [d.grid]
    samplers = _samplers(args.samplers, (d.sampler, d.steps))
    etas = etas or [d.eta]
    for m in modes:
        if m not in MODES:
            raise ValueError(f"unknown mode {m!r}; choose from {', '.join(MODES)}")
    for g in grids:
        if g not in GRIDS:
            raise ValueError(f"unknown grid rule {g!r}; choose from {', '.join(GRIDS)}")
    for name, _ in samplers:
        get_sampler(name)
    settings = settings_grid(modes, grids, samplers, etas, [p for p in args.positions.split(",") if p] or [None])
    command = "python -m patchdm_core eval " + " ".join(args.argv)

    def write(rows: list[dict]) -> None:
        args.out.mkdir(parents=True, exist_ok=True)
        head = f"`{command}`\n\nModel: {pipe.name} ({pipe.model_hash}); CPU: {cpu_name()}\n\n"
        (args.out / "eval.md").write_text(head + markdown(rows) + "\n")
        meta = {"command": command, "model": pipe.name, "model_hash": pipe.model_hash, "cpu": cpu_name()}
        (args.out / "eval.json").write_text(json.dumps({**meta, "rows": rows}, indent=1))

    rows = evaluate(
        pipe,
        args.data,
        n=args.n,
        sizes=sizes,
        settings=settings,
        guidance=args.guidance,
        save_dir=args.out / "images" if args.save_images else None,
        on_row=write,
    )
    write(rows)
    print(markdown(rows))
    print(f"wrote {args.out / 'eval.md'} and {args.out / 'eval.json'}")
    return 0
