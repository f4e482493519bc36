"""GPU checks (marker `gpu`, deselected by default): `pytest -m gpu` on a machine with CUDA."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

_spec = importlib.util.spec_from_file_location("gpu_checks", Path(__file__).parent.parent / "bench" / "gpu_checks.py")
checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(checks)


@pytest.mark.parametrize("check", checks.CHECKS, ids=lambda c: c.__name__)
def test_gpu(check) -> None:
    check()
