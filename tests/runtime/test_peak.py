from __future__ import annotations

import pytest
import torch

from patchdm_core.runtime import peak, precision


def test_the_cpu_peak_is_a_measured_matmul() -> None:
    value, source = peak.peak_tflops("cpu", torch.float32)
    assert 1e-4 < value < 100 and source == f"measured matmul, fp32, N={peak.MATMUL_N_CPU}"


def test_the_measured_rate_is_two_n_cubed_per_second_of_the_best_trial(monkeypatch) -> None:
    times = iter([0.02, 0.2, 0.09, 0.15])  # calibration: 0.02 s, so 3 matmuls per trial
    reps_seen = []

    def seconds(a, b, reps):
        reps_seen.append(reps)
        return next(times)

    monkeypatch.setattr(peak, "_seconds", seconds)
    value, source = peak.measured_matmul(torch.device("cpu"), torch.float32, n=64)
    assert reps_seen == [1, 3, 3, 3]
    assert value == pytest.approx(2 * 64**3 / (0.09 / 3) / 1e12) and source.endswith("N=64")


@pytest.mark.parametrize(
    ("name", "tflops"),
    [
        ("NVIDIA H100 80GB HBM3", 989),
        ("NVIDIA H100 PCIe", 756),
        ("NVIDIA H100 NVL", 835),
        ("NVIDIA H200", 989),
        ("NVIDIA H200 NVL", 835),
        ("NVIDIA A100-SXM4-80GB", 312),
        ("NVIDIA L40S", 362),
        ("NVIDIA L4", 121),
        ("NVIDIA GeForce RTX 4090", 165),
        ("NVIDIA L40", None),  # not L4, not L40S
        ("Tesla T4", None),
    ],
)
def test_spec_sheet_by_card_name(name: str, tflops: float | None) -> None:
    known = peak.spec_sheet(name)
    assert (known and known[0]) == tflops
    assert known is None or known[1].startswith("spec sheet, dense bf16")


def test_cuda_uses_the_spec_sheet_for_bf16_and_measures_otherwise(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H200")
    measured = []
    monkeypatch.setattr(peak, "measured_matmul", lambda d, dt: measured.append(dt) or (1.0, "measured"))
    assert peak.peak_tflops("cuda", torch.bfloat16) == (989.0, "spec sheet, dense bf16, H200 SXM")
    assert peak.peak_tflops("cuda", torch.float32) == (1.0, "measured") and measured == [torch.float32]
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Some Future GPU")
    assert peak.peak_tflops("cuda", torch.bfloat16) == (1.0, "measured") and measured[-1] == torch.bfloat16


def test_the_network_dtype_follows_the_precision_policy(monkeypatch) -> None:
    monkeypatch.setenv(precision.PRECISION_ENV, "fp32")
    assert peak.network_dtype(torch.device("cuda")) == torch.float32
    assert peak.network_dtype(torch.device("cpu")) == torch.float32
    monkeypatch.setenv(precision.PRECISION_ENV, "auto")
    assert peak.network_dtype(torch.device("cuda")) == torch.bfloat16
