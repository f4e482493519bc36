"""What this machine can do, checked before a job: free memory, threads, path lengths."""

from __future__ import annotations

import pytest

from patchdm_core.runtime import limits


def _need(w: int, h: int) -> int:
    return 12 * w * h  # one float32 RGB canvas


def test_a_job_that_fits_passes_and_one_that_does_not_names_the_largest_that_fits() -> None:
    limits.memory(1024, 512, 64, _need, available=12 * 1024 * 512)
    with pytest.raises(ValueError) as err:
        limits.memory(4096, 2048, 64, _need, available=12 * 1024 * 512)
    msg = str(err.value)
    assert "would need about 0.1 GB of memory, more than the 0.0 GB" in msg
    assert msg.endswith("the largest canvas of this shape that fits is 1024×512")


def test_the_largest_fitting_canvas_keeps_the_shape_the_grid_and_the_pixel_limit() -> None:
    free = 12 * 3000 * 1000
    w, h = limits.largest_fitting(8000, 4000, 64, lambda w, h: _need(w, h) <= free)
    assert w % 64 == 0 and h % 64 == 0 and _need(w, h) <= free
    assert _need(w + 64, h + 64) > free and abs(w / h - 2) < 0.1
    assert limits.largest_fitting(8000, 4000, 64, lambda w, h: True, max_pixels=2048 * 1024) == (2048, 1024)
    assert limits.largest_fitting(8000, 4000, 64, lambda w, h: False) is None


def test_threads_beyond_the_machines_cpus_are_refused(monkeypatch) -> None:
    monkeypatch.setattr(limits, "usable_cpus", lambda: 4)
    assert limits.thread_count("0") == 0 and limits.thread_count(4) == 4
    with pytest.raises(ValueError, match="threads must be 0 .one per physical core. to 4, .* got 5"):
        limits.thread_count("5")
    with pytest.raises(ValueError, match="threads must be a whole number"):
        limits.thread_count("many")


def test_paths_the_file_system_cannot_hold_are_refused() -> None:
    assert limits.path_length("out/" + "a" * 251 + ".png").name.endswith(".png")  # 255 bytes: the most
    with pytest.raises(ValueError, match="a name of 256 bytes"):
        limits.path_length("out/" + "a" * 252 + ".png")
    with pytest.raises(ValueError, match="a name of 256 bytes"):  # bytes, not characters: é is two
        limits.path_length("é" * 126 + ".png")
    with pytest.raises(ValueError, match="is 4096 bytes long"):
        limits.path_length("d/" * 2048)
