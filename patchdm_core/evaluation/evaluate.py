"""The evaluation behind `eval`: N canvases per sampler setting with the same seeds, scored against held-out pictures
cropped to the same size; writes a Markdown table and JSON.

One row per (size, mode, positions, grid rule, solver:steps, eta): seam score (on the canvas's own
64-px grid), lattice score (the seam score at the worst grid phase: it finds seams a moving grid
left elsewhere), grain (mean |Laplacian|: fine detail; the held-out pictures' own value is in their
row), SWD against the held-out pictures, seconds per image. A second table shows composition, which the
SWD mean hides (its finest levels dominate it): SWD per level, SWD of whole-canvas thumbnails (64 and
32 px on the long side) per level, the share of large smooth regions (metrics.smooth_share; the held-out
pictures' beside it), and how far two disjoint halves of the seeds disagree (the noise of the scores).

    python -m patchdm_core eval --data data/wallpapers/heldout --n 8 --sizes 1024x512 \\
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

from ..composition.sources import STRENGTH as LAYOUT_STRENGTH
from ..runtime.images import save_png, to_pil
from ..runtime.pictures import crops_of, list_images, load_rgb
from ..runtime.precision import cpu_name
from ..sampling.solvers import run
from .metrics import grain, lattice_score, seam_score, smooth_share, streaks, swd, thumbnail


@dataclass(frozen=True)
class Setting:
    """One sampler setting of the table."""

    mode: str = "feature"
    grid: str = "fixed"  # feature mode only ("-" otherwise)
    sampler: str = "ddim"
    steps: int = 25
    eta: float = 0.0
    positions: str | None = None  # None: the model's
    composition: str = "none"  # a layout source's name (composition/sources.py): painted on its layouts
    how: str = "structure"  # how a layout is brought in: structure guidance or img2img
    interval: tuple[int, int] | None = None  # guidance interval (None: the model's)

    @property
    def name(self) -> str:
        name = f"{self.mode}-{self.grid}-{self.sampler}{self.steps}-eta{self.eta:g}-{self.positions or 'default'}"
        if self.interval is not None:
            name += f"-cfg{self.interval[0]}-{self.interval[1]}"
        return name + (f"-{self.composition}-{self.how}" if self.composition != "none" else "")


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
    modes: list[str],
    grids: list[str],
    samplers: list[tuple[str, int]],
    etas: list[float],
    positions: list[str | None],
    compositions: tuple[str, ...] = ("none",),
    intervals: tuple[tuple[int, int] | None, ...] = (None,),
) -> list[Setting]:
    """The product of the choices; the grid rule only varies for feature mode. A composition may name how its
    layout is brought in: "designed:img2img" (structure guidance otherwise)."""
    out = []
    for comp, mode, pos, (sampler, steps), eta, interval in itertools.product(
        compositions, modes, positions, samplers, etas, intervals
    ):
        name, _, how = comp.partition(":")
        for grid in grids if mode == "feature" else ["-"]:
            out.append(Setting(mode, grid, sampler, steps, eta, pos, name, how or "structure", interval))
    return out


THUMBS = (64, 32)  # long sides of the whole-canvas thumbnails that are scored


def _thumb_swd(fake: torch.Tensor, real: torch.Tensor, side: int) -> dict[str, float]:
    return swd(thumbnail(fake, side), thumbnail(real, side), min_size=8)


def _composition(fake: torch.Tensor, real: torch.Tensor) -> dict:
    """SWD mean and per level (finest first), the same of thumbnails, and each of the two means on two
    disjoint halves of the seeds (their gap: how much of a difference between two models is noise)."""
    full = swd(fake, real)
    out: dict = {"swd": full.pop("mean"), "swd_levels": list(full.values())}
    for side in THUMBS:
        t = _thumb_swd(fake, real, side)
        out[f"thumb{side}"], out[f"thumb{side}_levels"] = t.pop("mean"), list(t.values())
    half = len(fake) // 2
    if half:
        parts = (fake[:half], fake[half : 2 * half])
        out["swd_halves"] = [swd(x, real)["mean"] for x in parts]
        out["thumb64_halves"] = [_thumb_swd(x, real, 64)["mean"] for x in parts]
    return out


def spread(halves: list[float] | None) -> float:
    """The gap between the two halves' scores over their mean (nan without halves)."""
    if not halves:
        return float("nan")
    a, b = halves
    return abs(a - b) / max((a + b) / 2, 1e-8)


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
        "smooth": statistics.mean(smooth_share(x) for x in images),
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
    sources: dict | None = None,
    layout_strength: float = LAYOUT_STRENGTH,
    bank=None,  # noqa: ANN001 - a LayoutBank: novelty of the canvases (their nearest training layout)
) -> list[dict]:
    """One row per (size, setting): seam and lattice score, SWD of n canvases (seeds 0..n-1), s/image.

    `on_row(rows)` runs after every row (the command line rewrites its tables: a long run that is cut
    short keeps what it measured); `sources` maps a composition other than "none" to its layout source (a
    LayoutBank or a LayoutModel); with a `bank`, each row gets the median novelty of its canvases
    (LayoutBank.nearest: 0.03 is a copy of a training picture's layout)."""
    rows = []
    for height, width in sizes:
        real = real_images(data, height, width)
        size = f"{width}x{height}"
        rows.append({"size": size, "setting": "held-out pictures", "n": len(real), "swd": 0.0, "seconds": 0.0})
        rows[-1] |= _scores(real, pipe.p)
        held = rows[-1]
        for st in settings:
            fakes, start = [], time.perf_counter()
            for seed in range(n):
                kw = dict(steps=st.steps, guidance=guidance, eta=st.eta, mode=st.mode, positions=st.positions)
                kw |= dict(grid=st.grid if st.mode == "feature" else None, sampler=st.sampler)
                kw |= dict(guidance_interval=st.interval)
                if st.composition != "none":
                    source = (sources or {})[st.composition]
                    it = pipe.compose(source, height, width, seed=seed, how=st.how, strength=layout_strength, **kw)
                else:
                    it = pipe.generate(height, width, seed=seed, **kw)
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
                **_composition(fake, real),
                "seconds": seconds,
            }
            if st.composition != "none" and st.how == "img2img":
                row["layout_strength"] = layout_strength
            if bank is not None:
                row["novelty"] = float(bank.nearest(fake).median())
            print(
                f"{size:>10} {st.mode:>8} {st.grid:>9} {st.sampler:>8}:{st.steps:<3} eta {st.eta:<4g}: "
                f"seam {row['seam']:.3f} lattice {row['lattice']:.3f} grain {row['grain']:.1f} "
                f"streaks {row['streaks']:.2f} SWD {row['swd']:.1f} (levels {_levels(row['swd_levels'])}) "
                f"thumb64 {row['thumb64']:.1f} smooth {row['smooth']:.2f} "
                f"(held-out {held['smooth']:.2f}) seed-half spread {100 * spread(row.get('swd_halves')):.0f}% / "
                f"{100 * spread(row.get('thumb64_halves')):.0f}%  {seconds:.0f} s/image",
                flush=True,
            )
            rows.append(row)
            if on_row is not None:
                on_row(rows)
    return rows


def _levels(values: list[float]) -> str:
    return " / ".join(f"{v:.0f}" for v in values)


def _percent(x: float) -> str:
    return "-" if x != x else f"{100 * x:.0f}%"


def composition_table(rows: list[dict]) -> str:
    """Per level and thumbnail SWD, smooth share and seed-half spread, one row per setting."""
    lines = [
        "| size | setting | n | SWD per level (finest first) | thumbnail 64 px: per level / mean | 32 px: mean "
        "| smooth share | spread of seed halves (SWD / thumb 64) | novelty |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        smooth = f"{r['smooth']:.2f}" if "smooth" in r else "-"
        if r["setting"] == "held-out pictures":
            lines.append(f"| {r['size']} | held-out pictures | {r['n']} | - | - | - | {smooth} | - | - |")
        elif "swd_levels" in r:  # tables written before these columns have none
            thumbs = f"{_levels(r['thumb64_levels'])} / **{r['thumb64']:.1f}** | {r['thumb32']:.1f}"
            gaps = f"{_percent(spread(r.get('swd_halves')))} / {_percent(spread(r.get('thumb64_halves')))}"
            levels = _levels(r["swd_levels"])
            new = f"{r['novelty']:.3f}" if "novelty" in r else "-"
            lines.append(
                f"| {r['size']} | {r['setting']} | {r['n']} | {levels} | {thumbs} | {smooth} | {gaps} | {new} |"
            )
    return "\n".join(lines)


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
        comp, how = r.get("composition", "none"), r.get("how", "structure")
        mode = r["mode"] + (f" + {comp}" if comp != "none" else "") + (" (img2img)" if how == "img2img" else "")
        lines.append(
            f"| {r['size']} | {mode} | {r['positions']} | {r['grid']} | {r['sampler']} | {r['steps']} | "
            f"{r['eta']:g} | {r['n']} | {scores} | {r['swd']:.1f} | {r['seconds']:.0f} |"
        )
    return "\n".join(lines)


def write_report(out: Path, rows: list[dict], *, command: str, model: str, model_hash: str) -> None:
    """OUT/eval.md (the command, the model, the CPU and the table) and OUT/eval.json (the same, as rows)."""
    out.mkdir(parents=True, exist_ok=True)
    head = f"`{command}`\n\nModel: {model} ({model_hash}); CPU: {cpu_name()}\n\n"
    (out / "eval.md").write_text(head + markdown(rows) + "\n\n" + composition_table(rows) + "\n")
    meta = {"command": command, "model": model, "model_hash": model_hash, "cpu": cpu_name()}
    (out / "eval.json").write_text(json.dumps({**meta, "rows": rows}, indent=1))
