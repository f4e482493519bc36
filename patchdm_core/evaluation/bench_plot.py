"""Plots and a Markdown table of a bench result (matplotlib, headless)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path


def _label(row: dict) -> str:
    if row["mode"] == "sliding":
        return f"sliding:{row['stride']}"
    grid = row.get("grid") or "fixed"
    return row["mode"] if grid == "fixed" else f"{row['mode']}:{grid}"


def table(results: dict) -> str:
    """Per-step time (median of the interleaved rounds, min-max), evaluations, counted TFLOP/s, percent of
    the peak and peak memory per mode and size; the chunk sweep; the headline ratios (from the medians)."""
    peak = results.get("peak") or {}
    lines = [f"`{results['command']}` ({results['time']}; {machine_line(results)})", ""]
    if "rounds" in results:
        lines += [
            f"Each row is the median of {results['rounds']} interleaved rounds (every mode timed once per round, "
            "in an order rotated per round) after an untimed warm-up of every mode at the row's own size; "
            "min-max beside it. TFLOP/s counts the network's FLOPs (FlopCounterMode: encoder and decoder FLOPs "
            f"per patch x evaluations); peak {peak.get('tflops', 0):.3g} TFLOP/s ({peak.get('source', '?')}).",
            "",
        ]
    lines += [
        "| mode | canvas | s / step | min-max | evals / step | TFLOP/s | % of peak | peak RSS (GiB) | peak GPU (GiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["steps"]:
        gpu = f"{r['peak_gpu_bytes'] / 2**30:.2f}" if "peak_gpu_bytes" in r else "-"
        lines.append(
            f"| {_label(r)} | {r['width']}x{r['height']} | {r['seconds']:.3f} | {_spread(r)} | "
            f"{evals(r)} | {_rate(r)} | {r['peak_rss_bytes'] / 2**30:.2f} | {gpu} |"
        )
    if results.get("chunks"):
        lines += [
            "",
            "| chunk | canvas | s / step | min-max | TFLOP/s | % of peak | peak RSS (GiB) |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in results["chunks"]:
            lines.append(
                f"| {r['chunk']} | {r['width']}x{r['height']} | {r['seconds']:.3f} | {_spread(r)} | {_rate(r)} | "
                f"{r['peak_rss_bytes'] / 2**30:.2f} |"
            )
    for name, value in ratios(results).items():
        lines.append(f"\n{name}: **{value:.2f}**")
    return "\n".join(lines)


def machine_line(results: dict) -> str:
    """The device the rows ran on, named: the GPU for a CUDA run, the CPU model and threads otherwise."""
    m = results["machine"]
    cpu = f"CPU {m.get('cpu', '?')}, {m.get('threads', '?')} threads"
    gpu = _gpu(results)
    return f"{'GPU ' + gpu + ', ' if gpu else ''}{cpu}, torch {m.get('torch', '?')}"


def evals(r: dict) -> str:
    """Encoder + decoder evaluations per step: whole, or a mean of rounds whose lattice moved differently."""
    n = r["encode_evals"] + r["decode_evals"]
    return f"{n:.0f}" if n == int(n) else f"{n:.1f}"


def _spread(r: dict) -> str:
    return f"{r['seconds_min']:.3f}-{r['seconds_max']:.3f}" if "seconds_min" in r else "-"


def _rate(r: dict) -> str:
    """TFLOP/s and % of peak cells (dashes for rows from before they were counted)."""
    if "tflop_per_s" not in r:
        return "- | -"
    return f"{r['tflop_per_s']:.3g} | {r['percent_of_peak']:.1f}"


def ratios(results: dict) -> dict[str, float]:
    """feature/naive, moved-grid/fixed-grid and sliding/feature time (and memory) at 2048x1024, from the same run
    (a row's seconds is the median of its interleaved rounds)."""
    at = {(_label(r), r["width"], r["height"]): r["seconds"] for r in results["steps"]}
    mem = {(_label(r), r["width"], r["height"]): r["peak_rss_bytes"] for r in results["steps"]}
    out = {}
    f = at.get(("feature", 2048, 1024))
    if f and ("naive", 2048, 1024) in at:
        out["feature / naive time at 2048x1024"] = f / at[("naive", 2048, 1024)]
    for grid in ("alternate", "random"):
        key = (f"feature:{grid}", 2048, 1024)
        if f and key in at:
            out[f"feature:{grid} / feature (fixed grid) time at 2048x1024"] = at[key] / f
            out[f"feature:{grid} / feature (fixed grid) peak RSS at 2048x1024"] = (
                mem[key] / mem[("feature", 2048, 1024)]
            )
    for stride in (8, 16, 32):
        key = (f"sliding:{stride}", 2048, 1024)
        if f and key in at:
            out[f"sliding (stride {stride}) / feature time at 2048x1024"] = at[key] / f
    return out


def _device(results: dict) -> str:
    return _gpu(results) or "CPU"


def _gpu(results: dict) -> str | None:
    """The GPU the rows ran on, or None: a machine with a GPU also runs CPU sweeps (device "cpu"); results
    written before the device was recorded ran on the GPU whenever the machine had one."""
    gpu = results["machine"].get("gpu")
    return None if str(results.get("device", "")).startswith("cpu") else gpu


def plots(results: dict, stem: Path) -> list[Path]:
    """Time and peak memory against canvas pixels, one line per mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list[dict]] = defaultdict(list)
    for r in results["steps"]:
        series[_label(r)].append(r)
    written = []
    for key, ylabel, scale, suffix in [
        ("seconds", "seconds per step", 1, "time"),
        ("peak_rss_bytes", "peak RSS (GiB)", 2**30, "memory"),
    ]:
        fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
        for label, rows in series.items():
            rows = sorted(rows, key=lambda r: r["width"] * r["height"])
            ax.plot([r["width"] * r["height"] / 1e6 for r in rows], [r[key] / scale for r in rows], "o-", label=label)
        ax.set_xscale("log")
        ax.set_yscale("log" if key == "seconds" else "linear")
        ax.set_xlabel("canvas megapixels")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{results['config']} model, {_device(results)}: {suffix}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        path = stem.with_name(f"{stem.name}-{suffix}.png")
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written
