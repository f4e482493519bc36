"""The studio's size lists: the model's quick sizes, every screen the CLI knows (grouped), recent sizes."""

from __future__ import annotations

import os

from PIL import Image

from app.shared.history import History
from app.shared.widgets import CUSTOM, PRESETS, RECENT, preset_size
from patchdm_core.runtime.images import save_png
from patchdm_core.runtime.screens import PRESETS as SCREENS


def test_every_screen_is_in_the_list_with_its_size_and_picks_it() -> None:
    for name, size in SCREENS.items():
        labels = [label for label in PRESETS if f" · {name} · " in label]
        assert len(labels) == 1 and preset_size(labels[0]) == size
    assert preset_size("1024×512") == (1024, 512)
    assert preset_size(f"{RECENT}1920×1080") == (1920, 1080)
    assert all(v is not None for v in preset_size(CUSTOM)) and preset_size(CUSTOM)[0] != (1, 1)


def test_recent_sizes_are_the_newest_distinct_ones(tmp_path) -> None:
    history = History(tmp_path)
    for i, size in enumerate(["1920x1080", "64x32", "1920x1080", "3440x1440"]):
        path = save_png(Image.new("RGB", (8, 8)), tmp_path / f"2026010{i}-000000-generate-1-aaaaaa.png", {"Size": size})
        os.utime(path, ns=(i * 10**9, i * 10**9))
    assert history.recent_sizes() == [(3440, 1440), (1920, 1080), (64, 32)]
