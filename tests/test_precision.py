from __future__ import annotations

import pytest
import torch

from patchdm_core import precision


@pytest.fixture(autouse=True)
def fresh_cache():
    precision.cpu_has_bf16.cache_clear()
    yield
    precision.cpu_has_bf16.cache_clear()


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
def test_bf16_only_where_the_cpu_has_it(monkeypatch, flags: set[str], native: bool) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: flags)
    monkeypatch.setattr(precision.platform, "system", lambda: "Linux")
    # oneDNN says yes on CPUs that only emulate bf16: it must not be asked
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True, raising=False)
    assert precision.cpu_has_bf16() is native
    with precision.autocast(torch.device("cpu")):
        y = torch.nn.functional.linear(torch.randn(2, 4), torch.randn(3, 4))
    assert y.dtype == (torch.bfloat16 if native else torch.float32)


def test_the_flags_are_read_from_the_cpu() -> None:
    flags = precision.cpu_flags()
    text = open("/proc/cpuinfo").read()
    assert flags and all(f in text for f in list(flags)[:5])


def test_every_command_sets_its_threads_and_says_so(tmp_path, capsys) -> None:
    from patchdm_core import threads
    from patchdm_core.cli import main

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
        assert "threads: 1 (--threads), OpenMP waits passive" in capsys.readouterr().out
        assert main(["generate", "--random-init", "tiny", "--size", "32x32", "--steps", "1", "-o", str(out)]) == 0
        assert torch.get_num_threads() == threads.physical_cores()
        assert f"threads: {threads.physical_cores()} (one per physical core)" in capsys.readouterr().out
    finally:
        torch.set_num_threads(before)


def test_physical_cores_is_within_what_the_process_may_use() -> None:
    import os

    from patchdm_core.threads import physical_cores

    assert 1 <= physical_cores() <= len(os.sched_getaffinity(0))
