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
    """Per-step time, evaluations and peak memory per mode and size, plus the headline ratios."""
    lines = [
        f"`{results['command']}` ({results['time']}, {results['machine']})",
        "",
        "| mode | canvas | s / step | evals / step | peak RSS (GiB) | peak GPU (GiB) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results["steps"]:
        gpu = f"{r['peak_gpu_bytes'] / 2**30:.2f}" if "peak_gpu_bytes" in r else "-"
        lines.append(
            f"| {_label(r)} | {r['width']}x{r['height']} | {r['seconds']:.2f} | "
            f"{r['encode_evals'] + r['decode_evals']} | {r['peak_rss_bytes'] / 2**30:.2f} | {gpu} |"
        )
    for name, value in ratios(results).items():
        lines.append(f"\n{name}: **{value:.2f}**")
    return "\n".join(lines)


def ratios(results: dict) -> dict[str, float]:
    """feature/naive, moved-grid/fixed-grid and sliding/feature time (and memory) at 2048x1024, from the same run."""
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
        ax.set_title(f"{results['config']} model, {results['machine'].get('gpu', 'CPU')}: {suffix}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        path = stem.with_name(f"{stem.name}-{suffix}.png")
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written
