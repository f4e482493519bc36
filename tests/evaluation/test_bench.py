from __future__ import annotations

import dataclasses
import json
import statistics

import pytest
import torch

from patchdm_core.cli.main import main
from patchdm_core.evaluation import bench, image_bench
from patchdm_core.evaluation.bench_plot import ratios, table
from patchdm_core.model.presets import preset
from patchdm_core.pipeline import PatchDM


def test_bench_writes_json_table_and_plots(tmp_path) -> None:
    out = tmp_path / "b"
    # 2 rounds: calls 1 and 2 of grid "random" (seed 0, 16-px patches) move both axes; call 3 does not
    args = (
        "bench --config tiny --device cpu --sizes 64x32 --modes feature,feature:random,naive,sliding:8 --chunks 4,8 "
        "--chunk-canvas 64x32 --repeats 2 --peak-tflops 0.5"
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
    assert results["peak"] == {"tflops": 0.5, "source": "given"} and results["rounds"] == 2
    gflop = results["gflop_per_patch"]
    for r in results["steps"] + results["chunks"]:
        assert len(r["round_seconds"]) == 2 and r["seconds"] == statistics.median(r["round_seconds"])
        assert r["seconds_min"] <= r["seconds"] <= r["seconds_max"]
        tflop = (r["encode_evals"] * gflop["encode"] + r["decode_evals"] * gflop["decode"]) / 1000
        assert tflop > 0 and r["tflop"] == pytest.approx(tflop)
        assert r["tflop_per_s"] == pytest.approx(tflop / r["seconds"])
        assert r["percent_of_peak"] == pytest.approx(100 * r["tflop_per_s"] / 0.5)
    assert [r["chunk"] for r in results["chunks"]] == [4, 8]
    assert (out / "cpu-tiny-time.png").stat().st_size > 1000 and (out / "cpu-tiny-memory.png").exists()
    md = (out / "cpu-tiny.md").read_text()
    assert "| feature | 64x32 |" in md and "| feature:random | 64x32 |" in md
    assert "| TFLOP/s | % of peak |" in md and "median of 2 interleaved rounds" in md
    assert "(given)" in md and results["machine"]["cpu"] in md


class FakeDenoiser:
    """Records every call (mode, canvas size, whether a clock read came before it) and advances a fake clock
    by its next cost."""

    def __init__(self, mode: str, costs: list[float], log: list, clock: list[float]) -> None:
        self.mode, self.costs, self.log, self.clock = mode, costs, log, clock
        self.chunk, self.grid = 64, "fixed"
        self.evals = {"encode": 0, "decode": 0, "calls": 0}

    def __call__(self, x: torch.Tensor, t: torch.Tensor, cond) -> torch.Tensor:
        self.log.append((self.mode, tuple(x.shape[-2:])))
        self.clock[0] += self.costs.pop(0)
        self.evals["encode"] += 10
        self.evals["decode"] += 8
        return torch.zeros_like(x)


def test_rounds_warm_up_at_the_rows_size_then_interleave(monkeypatch) -> None:
    pipe = PatchDM.random_init(preset("tiny"), device="cpu")
    log: list = []
    clock = [0.0]
    costs = {"feature": [9.0, 1.0, 3.0, 2.0], "naive": [7.0, 4.0, 4.5, 5.0]}  # first: the untimed warm-up
    monkeypatch.setattr(pipe, "denoiser", lambda mode, **kw: FakeDenoiser(mode, costs[mode], log, clock))

    def perf_counter() -> float:
        log.append("clock")
        return clock[0]

    monkeypatch.setattr(bench.time, "perf_counter", perf_counter)
    cases = [{"mode": "feature"}, {"mode": "naive"}]
    feature, naive = bench.interleaved(pipe, cases, 48, 96, rounds=3, flops=(1e9, 2e9), peak=10.0)
    calls = [e for e in log if e != "clock"]
    assert calls[:2] == [("feature", (48, 96)), ("naive", (48, 96))]
    assert "clock" not in log[: log.index(calls[2])]  # both warm-ups ran before the first timing
    assert [m for m, _ in calls[2:]] == ["feature", "naive", "naive", "feature", "feature", "naive"]
    assert all(size == (48, 96) for _, size in calls)
    assert feature["round_seconds"] == [1.0, 3.0, 2.0] and feature["seconds"] == 2.0  # the warm-up's 9 s is not in
    assert (feature["seconds_min"], feature["seconds_max"]) == (1.0, 3.0) and naive["seconds"] == 4.5
    assert feature["encode_evals"] == 10 and feature["decode_evals"] == 8  # per timed call, warm-up left out
    assert feature["tflop"] == pytest.approx((10 * 1e9 + 8 * 2e9) / 1e12)
    assert feature["tflop_per_s"] == pytest.approx(feature["tflop"] / 2.0)
    assert naive["percent_of_peak"] == pytest.approx(100 * feature["tflop"] / 4.5 / 10.0)


def test_every_case_goes_first_in_some_round() -> None:
    orders = [bench.rotated(3, r) for r in range(3)]
    assert orders == [[0, 1, 2], [1, 2, 0], [2, 0, 1]]
    assert all(sorted(o) == [0, 1, 2] for o in orders)


def test_gpu_report_warms_up_at_the_same_size_and_counts_the_moved_grid(monkeypatch) -> None:
    cfg = preset("tiny")
    moving = dataclasses.replace(cfg, sampling=dataclasses.replace(cfg.sampling, grid="random"))
    monkeypatch.setattr(image_bench, "preset", lambda name: moving)
    made = []
    generate = PatchDM.generate

    def recording(self, height, width, **kw):
        made.append((height, width, kw["steps"]))
        return generate(self, height, width, **kw)

    monkeypatch.setattr(PatchDM, "generate", recording)
    report = image_bench.gpu_report("cpu", [(32, 64)], steps=3, guidance=1.5, peak=0.25, models=("tiny",))
    assert made == [(32, 64, 2), (32, 64, 3)]
    (row,) = report["tiny"]["images"]
    # 3 DDIM calls on [null; cond], each lattice moved on both axes (seed 0): 4x6 encoder, 3x5 decoder cells
    enc, dec = 3 * 2 * 4 * 6, 3 * 2 * 3 * 5
    assert row["patches_per_second"] * row["seconds"] == pytest.approx(enc + dec)
    gflop = report["tiny"]
    assert row["tflop_per_image"] == pytest.approx(
        (enc * gflop["encode_gflop_per_patch"] + dec * gflop["decode_gflop_per_patch"]) / 1000
    )
    assert row["percent_of_peak"] == pytest.approx(100 * row["tflops"] / 0.25)


def test_table_shows_rates_spread_and_the_machine() -> None:
    row = {
        "mode": "feature",
        "grid": "fixed",
        "stride": None,
        "width": 2048,
        "height": 1024,
        "seconds": 2.0,
        "seconds_min": 1.9,
        "seconds_max": 2.3,
        "encode_evals": 561,
        "decode_evals": 512,
        "tflop_per_s": 0.0123,
        "percent_of_peak": 14.6,
        "peak_rss_bytes": 2**30,
    }
    results = {
        "command": "python -m patchdm_core bench",
        "time": "2025-01-01 00:00",
        "machine": {"cpu": "AMD EPYC", "threads": 2, "torch": "2.x"},
        "device": "cpu",
        "rounds": 3,
        "peak": {"tflops": 0.084, "source": "measured matmul, fp32, N=1536"},
        "steps": [row, {**row, "mode": "naive", "grid": None, "seconds": 1.6}],
        "chunks": [{**row, "chunk": 64}],
    }
    md = table(results)
    assert "| feature | 2048x1024 | 2.000 | 1.900-2.300 | 1073 | 0.0123 | 14.6 | 1.00 | - |" in md
    assert "| 64 | 2048x1024 | 2.000 | 1.900-2.300 | 0.0123 | 14.6 | 1.00 |" in md
    assert "CPU AMD EPYC, 2 threads" in md and "median of 3 interleaved rounds" in md
    assert "measured matmul, fp32, N=1536" in md
    assert "feature / naive time at 2048x1024: **1.25**" in md


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


def test_the_machine_line_names_the_gpu_only_for_rows_that_ran_on_it() -> None:
    from patchdm_core.evaluation.bench_plot import machine_line

    m = {"cpu": "AMD EPYC", "threads": 2, "torch": "2.14.1", "gpu": "NVIDIA H200"}
    assert machine_line({"machine": m, "device": "cuda:0"}).startswith("GPU NVIDIA H200, CPU AMD EPYC")
    assert machine_line({"machine": m}).startswith("GPU NVIDIA H200")  # written before the device was recorded
    assert machine_line({"machine": m, "device": "cpu"}).startswith("CPU AMD EPYC, 2 threads")
    assert machine_line({"machine": {k: v for k, v in m.items() if k != "gpu"}}).startswith("CPU")
