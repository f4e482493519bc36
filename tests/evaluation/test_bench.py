from __future__ import annotations

import json

from patchdm_core.cli.main import main
from patchdm_core.evaluation.bench_plot import ratios


def test_bench_writes_json_table_and_plots(tmp_path) -> None:
    out = tmp_path / "b"
    args = (
        "bench --config tiny --device cpu --sizes 64x32 --modes feature,feature:random,naive,sliding:8 --chunks 4 "
        "--chunk-canvas 64x32"
    )
    assert main([*args.split(), "--out", str(out)]) == 0
    results = json.loads((out / "cpu-tiny.json").read_text())
    rows = {(r["mode"], r["grid"], r["width"]): r for r in results["steps"]}
    assert (
        rows[("feature", "fixed", 64)]["encode_evals"] == 3 * 5
        and rows[("feature", "fixed", 64)]["decode_evals"] == 2 * 4
    )
    # the moved grid covers the canvas with one more row and column of cells
    moved = rows[("feature", "random", 64)]
    assert moved["encode_evals"] == 4 * 6 and moved["decode_evals"] == 3 * 5
    assert rows[("sliding", None, 64)]["encode_evals"] == 3 * 7  # 16-px windows every 8 px over 32x64
    assert all(r["seconds"] > 0 and r["peak_rss_bytes"] > 0 for r in results["steps"])
    assert results["chunks"][0]["chunk"] == 4
    assert (out / "cpu-tiny-time.png").stat().st_size > 1000 and (out / "cpu-tiny-memory.png").exists()
    assert "| feature | 64x32 |" in (out / "cpu-tiny.md").read_text()
    assert "| feature:random | 64x32 |" in (out / "cpu-tiny.md").read_text()


def test_ratios_come_from_the_same_run() -> None:
    rows = [
        {"mode": m, "grid": g, "stride": s, "width": 2048, "height": 1024, "seconds": t, "peak_rss_bytes": b}
        for m, g, s, t, b in [
            ("feature", "fixed", None, 2.0, 100),
            ("feature", "random", None, 2.2, 104),
            ("naive", None, None, 1.8, 90),
            ("sliding", None, 8, 80.0, 90),
        ]
    ]
    r = ratios({"steps": rows})
    assert abs(r["feature / naive time at 2048x1024"] - 2 / 1.8) < 1e-9
    assert abs(r["feature:random / feature (fixed grid) time at 2048x1024"] - 1.1) < 1e-9
    assert abs(r["feature:random / feature (fixed grid) peak RSS at 2048x1024"] - 1.04) < 1e-9
    assert r["sliding (stride 8) / feature time at 2048x1024"] == 40.0
