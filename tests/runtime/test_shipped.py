"""The shipped weights are found from a checkout first, else from the installed package's own copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from patchdm_core.runtime import shipped
from patchdm_core.runtime.shipped import NAME, shipped_weights

ROOT = Path(__file__).resolve().parents[2]


def test_a_checkout_uses_its_weights_folder() -> None:
    assert shipped_weights() == ROOT / "weights" / NAME
    assert shipped_weights("patchdm-demo-layouts.png") == ROOT / "weights" / "patchdm-demo-layouts.png"


def test_an_installed_package_finds_its_own_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site-packages" / "patchdm_core"
    (package / "weights").mkdir(parents=True)
    (package / "weights" / NAME).write_bytes(b"weights")
    monkeypatch.setattr(shipped, "CHECKOUT", tmp_path / "no-checkout" / "weights")
    monkeypatch.setattr(shipped.resources, "files", lambda name: package if name == "patchdm_core" else None)
    assert shipped_weights() == package / "weights" / NAME
    (package / "weights" / NAME).unlink()  # neither: the checkout's path, which the 'not found' message names
    assert shipped_weights() == tmp_path / "no-checkout" / "weights" / NAME
