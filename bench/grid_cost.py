"""Price of moving the patch grid: time and peak memory of one denoiser step per grid rule (feature mode).

Time: the rules' calls are interleaved in one process (fixed, random, alternate, fixed, ...) so that a
noisy neighbour on a shared machine slows them alike; the median per rule is reported. Memory: each
rule in a fresh process (peak RSS of a process never goes down, so sequential rows would inherit
the previous row's peak). Random weights: the cost does not depend on their values.

    python bench/grid_cost.py --config demo --size 2048x1024 --rounds 5 --out bench/results/cpu-grid-cost
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from patchdm_core.evaluation.bench import PeakRSS, machine  # noqa: E402
from patchdm_core.model.presets import preset  # noqa: E402
from patchdm_core.pipeline import PatchDM  # noqa: E402
from patchdm_core.runtime.precision import cpu_name  # noqa: E402

RULES = ("fixed", "alternate", "random")


def one_call(pipe: PatchDM, rule: str, height: int, width: int, call: int) -> tuple[float, dict]:
    """Seconds of denoiser call number `call` of this rule (alternate moves on odd calls) and its evals."""
    den = pipe.denoiser("feature", grid=rule)
    den.evals["calls"] = call
    x = torch.randn(1, 3, height, width, generator=torch.Generator().manual_seed(0))
    t, cond = torch.tensor([500]), pipe.cond(None)
    start = time.perf_counter()
    den(x, t, cond)
    return time.perf_counter() - start, {k: den.evals[k] for k in ("encode", "decode")}


def peak_in_fresh_process(config: str, rule: str, height: int, width: int) -> int:
    code = (
        "import sys, torch; sys.path.insert(0, '.');"
        "from bench.grid_cost import one_call; from patchdm_core.evaluation.bench import PeakRSS;"
        "from patchdm_core.model.presets import preset; from patchdm_core.pipeline import PatchDM;"
        f"pipe = PatchDM.random_init(preset('{config}'), device='cpu'); one_call(pipe, '{rule}', 128, 128, 1);"
        f"m = PeakRSS().__enter__(); one_call(pipe, '{rule}', {height}, {width}, 1); m.__exit__(); print(m.peak)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="demo")
    ap.add_argument("--size", default="2048x1024", help="WxH")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved calls per rule")
    ap.add_argument("--out", type=Path, default=Path("bench/results/cpu-grid-cost"))
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    pipe = PatchDM.random_init(preset(args.config), device="cpu")
    one_call(pipe, "fixed", 128, 128, 0)  # warm-up
    seconds: dict[str, list[float]] = {r: [] for r in RULES}
    evals: dict[str, dict] = {}
    with PeakRSS():
        for k in range(args.rounds):
            for rule in RULES:
                # call 2k+1: alternate is on its shifted grid, random draws a fresh offset
                s, evals[rule] = one_call(pipe, rule, height, width, 2 * k + 1)
                seconds[rule].append(s)
                print(f"round {k} {rule:>9}: {s:.2f} s", flush=True)
    peaks = {r: peak_in_fresh_process(args.config, r, height, width) for r in RULES}
    base = statistics.median(seconds["fixed"])
    rows = {
        r: {
            "median_seconds": statistics.median(seconds[r]),
            "seconds": seconds[r],
            "time_vs_fixed": statistics.median(seconds[r]) / base,
            "evals": evals[r],
            "peak_rss_bytes": peaks[r],
            "peak_vs_fixed": peaks[r] / peaks["fixed"],
        }
        for r in RULES
    }
    command = "python bench/grid_cost.py " + " ".join(sys.argv[1:])
    result = {"command": command, "cpu": cpu_name(), "machine": machine(), "size": args.size, "rules": rows}
    lines = [
        f"`{command}` ({cpu_name()}, {time.strftime('%Y-%m-%d')}); one unguided step of the {args.config} model "
        f"at {args.size}, median of {args.rounds} interleaved calls; peak RSS of one call in a fresh process",
        "",
        "| grid rule | s / step (median) | vs fixed | evals (encode + decode) | peak RSS (GiB) | vs fixed |",
        "|---|---|---|---|---|---|",
    ]
    for r, row in rows.items():
        lines.append(
            f"| {r} | {row['median_seconds']:.2f} | {row['time_vs_fixed']:.3f} | "
            f"{row['evals']['encode']} + {row['evals']['decode']} | {row['peak_rss_bytes'] / 2**30:.2f} | "
            f"{row['peak_vs_fixed']:.3f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1))
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
