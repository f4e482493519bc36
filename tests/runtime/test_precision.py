from __future__ import annotations

import json

import pytest
import torch

from patchdm_core.runtime import precision


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(precision.PRECISION_ENV, "auto")  # restored after the test, also after apply()
    precision.cpu_has_bf16.cache_clear()
    precision._cpu_choice.cache_clear()
    yield
    precision.cpu_has_bf16.cache_clear()
    precision._cpu_choice.cache_clear()


def _dtype_under_autocast() -> torch.dtype:
    with precision.autocast(torch.device("cpu")):
        return torch.nn.functional.linear(torch.randn(2, 4), torch.randn(3, 4)).dtype


@pytest.mark.parametrize(
    ("flags", "native"),
    [
        ({"avx512f", "avx512_bf16", "avx2"}, True),  # Sapphire Rapids, Zen 4
        ({"avx512f", "amx_bf16", "amx_tile"}, True),
        ({"avx512f", "avx512_vnni", "avx2"}, False),  # Cascade Lake: AVX-512, no bf16 (emulated)
        ({"avx2", "fma"}, False),  # most desktop CPUs
        (set(), False),  # no /proc/cpuinfo
    ],
)
@pytest.mark.parametrize("bf16_faster", [True, False])
def test_bf16_only_where_the_cpu_has_it_and_it_pays(monkeypatch, flags: set[str], native: bool, bf16_faster: bool):
    monkeypatch.setattr(precision, "cpu_flags", lambda: flags)
    monkeypatch.setattr(precision.platform, "system", lambda: "Linux")
    # oneDNN says yes on CPUs that only emulate bf16: it must not be asked
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True, raising=False)
    timed = []

    def fake_times(rounds: int = 3) -> dict[str, float]:
        timed.append(rounds)
        return {"fp32": 1.0, "bf16": 0.5 if bf16_faster else 0.95}  # 0.95: faster, but not by 15%

    monkeypatch.setattr(precision, "time_precisions", fake_times)
    assert precision.cpu_has_bf16() is native
    use = native and bf16_faster
    assert _dtype_under_autocast() == (torch.bfloat16 if use else torch.float32)
    assert precision.describe("cpu").startswith("precision: " + ("bf16" if use else "fp32"))
    assert len(timed) == (1 if native else 0)  # measured only where the CPU has the instructions


def test_the_measurement_is_cached_per_cpu_and_torch(monkeypatch) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx512_bf16"})
    calls = []
    monkeypatch.setattr(precision, "time_precisions", lambda: calls.append(1) or {"fp32": 2.0, "bf16": 1.0})
    assert precision.cpu_bf16_pays() is True
    cached = json.loads(precision.cache_file().read_text())
    (key,) = cached
    assert torch.__version__ in key and cached[key]["bf16"] is True
    assert precision.cpu_bf16_pays() is True and len(calls) == 1  # the second answer came from the file
    precision.cache_file().write_text("{not json")  # a damaged cache is measured again, not an error
    assert precision.cpu_bf16_pays() is True and len(calls) == 2


def test_the_real_measurement_times_both_precisions() -> None:
    times = precision.time_precisions(rounds=1)
    assert set(times) == {"fp32", "bf16"} and all(0 < v < 60 for v in times.values())


@pytest.mark.parametrize("flags", [{"avx512_bf16"}, {"avx2"}])
def test_training_and_inference_are_decided_apart(monkeypatch, flags: set[str]) -> None:
    """The Xeon of the README: bf16 loses for the forward pass and trains 2.6x faster than fp32."""
    monkeypatch.setattr(precision, "cpu_flags", lambda: flags)
    monkeypatch.setattr(precision.platform, "system", lambda: "Linux")
    monkeypatch.setattr(precision, "time_precisions", lambda: {"fp32": 1.0, "bf16": 1.5})
    native = "avx512_bf16" in flags
    assert precision.bf16_autocast_ok(torch.device("cpu")) is False
    assert precision.bf16_autocast_ok(torch.device("cpu"), "train") is native  # never emulated bf16
    with precision.autocast(torch.device("cpu"), kind="train"):
        y = torch.nn.functional.linear(torch.randn(2, 4), torch.randn(3, 4))
    assert y.dtype == (torch.bfloat16 if native else torch.float32)
    assert precision.describe("cpu", "train").startswith("precision: " + ("bf16" if native else "fp32"))
    with pytest.raises(ValueError, match="kind must be one of infer, train"):
        precision.cpu_choice("sample")


@pytest.mark.parametrize("asked", ["fp32", "bf16"])
def test_precision_can_be_forced(monkeypatch, asked: str) -> None:
    monkeypatch.setattr(precision, "time_precisions", lambda: pytest.fail("a forced choice measures nothing"))
    precision.apply(asked)
    assert _dtype_under_autocast() == (torch.bfloat16 if asked == "bf16" else torch.float32)
    assert precision.describe("cpu") == f"precision: {asked} (PATCHDM_PRECISION / --precision)"


def test_a_bad_precision_is_one_clear_error(monkeypatch, capsys, tmp_path) -> None:
    from patchdm_core.cli.main import main

    monkeypatch.setenv(precision.PRECISION_ENV, "fp8")
    with pytest.raises(ValueError, match="PATCHDM_PRECISION='fp8': choose one of auto, fp32, bf16"):
        precision.cpu_choice()
    precision._cpu_choice.cache_clear()
    out = str(tmp_path / "x.png")
    assert main(["generate", "--random-init", "tiny", "--size", "32x32", "--steps", "1", "-o", out]) == 2
    assert "error: PATCHDM_PRECISION='fp8'" in capsys.readouterr().err


def test_the_flags_are_read_from_the_cpu() -> None:
    flags = precision.cpu_flags()
    text = open("/proc/cpuinfo").read()
    assert flags and all(f in text for f in list(flags)[:5])


def test_every_command_sets_its_threads_and_says_so(tmp_path, capsys) -> None:
    from patchdm_core.cli.main import main
    from patchdm_core.runtime import threads

    before = torch.get_num_threads()
    try:
        out = tmp_path / "a.png"
        assert (
            main(
                [
                    "generate",
                    "--random-init",
                    "tiny",
                    "--size",
                    "32x32",
                    "--steps",
                    "1",
                    "--threads",
                    "1",
                    "-o",
                    str(out),
                ]
            )
            == 0
        )
        assert torch.get_num_threads() == 1
        said = capsys.readouterr().out
        assert "threads: 1 (--threads), OpenMP waits passive" in said
        assert "\nprecision: " in said  # and which precision the network runs in
        assert main(["generate", "--random-init", "tiny", "--size", "32x32", "--steps", "1", "-o", str(out)]) == 0
        assert torch.get_num_threads() == threads.physical_cores()
        assert f"threads: {threads.physical_cores()} (one per physical core)" in capsys.readouterr().out
    finally:
        torch.set_num_threads(before)


def test_physical_cores_is_within_what_the_process_may_use() -> None:
    import os

    from patchdm_core.runtime.threads import physical_cores

    assert 1 <= physical_cores() <= len(os.sched_getaffinity(0))
