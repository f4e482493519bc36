from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from patchdm_core import tiny
from patchdm_core.cli.main import main
from patchdm_core.training.bench import flops_per_window, synthetic_pictures


def test_bench_train_runs_the_loop_and_reports_windows_and_flops(tmp_path, capsys) -> None:
    out = tmp_path / "train.json"
    assert main(["bench-train", "--config", "tiny", "--batch-size", "4", "--seconds", "3", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["config"] == "tiny" and report["batch_size"] == 4 and report["steps"] >= 1
    assert report["windows_per_s"] > 0 and report["gflop_per_window"] > 0
    # achieved arithmetic is the measured rate times the counted work, not a separate guess
    assert report["tflop_per_s"] == pytest.approx(report["windows_per_s"] * report["gflop_per_window"] / 1e3, rel=0.02)
    assert "windows/s" in capsys.readouterr().out


def test_training_flops_are_counted_per_window_and_include_the_backward_pass(tmp_path) -> None:
    cfg = tiny()
    data = synthetic_pictures(tmp_path / "data", cfg.train.image_size, n=2)
    two, four = (flops_per_window(cfg, data, torch.device("cpu"), windows=n) for n in (2, 4))
    assert two == pytest.approx(four, rel=1e-6)  # linear in the batch
    forward = flops_per_window(cfg, data, torch.device("cpu"), windows=2, backward=False)
    assert 2.5 < two / forward < 3.2  # the backward pass costs about twice the forward


def test_bench_train_refuses_a_missing_data_folder(tmp_path, capsys) -> None:
    assert main(["bench-train", "--config", "tiny", "--data", str(tmp_path / "nope"), "--seconds", "1"]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_a_3x3_window_costs_the_flops_of_its_patches(tmp_path) -> None:
    """9 encoder + 4 collaged + 9 plain decoder patches against 4 + 1 + 4: the count follows the window."""
    cfg = tiny()
    data = synthetic_pictures(tmp_path / "d", cfg.train.image_size, n=2)
    two = flops_per_window(cfg, data, torch.device("cpu"), windows=2, backward=False)
    wide = cfg.replace(train=dataclasses.replace(cfg.train, window=3))
    three = flops_per_window(wide, data, torch.device("cpu"), windows=2, backward=False)
    assert 2.0 < three / two < 2.7  # (9 enc + 13 dec) / (4 enc + 5 dec) patches, encoder cheaper than decoder


def test_a_run_shorter_than_one_log_window_still_reports_its_rate(tmp_path, monkeypatch) -> None:
    from patchdm_core.training import bench as bench_train

    monkeypatch.setattr(bench_train, "LOG_EVERY", 10**6)  # no log line is ever written
    out = tmp_path / "r.json"
    assert main(["bench-train", "--config", "tiny", "--batch-size", "2", "--seconds", "2", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["windows_per_s"] > 0
