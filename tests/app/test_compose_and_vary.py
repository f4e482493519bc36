"""Compositions in the app (issue 31) and variations, without a browser (tiny model, 16-px patches): the layout
family and strength, the reference picture's own composition, the command line's PNG keys, compositions with
tiling, off-grid sizes, a batch, a span and Stop; Vary subtle and strong; History's settings of a picture."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.shared.history import History, read_parameters
from app.shared.imaging import InputError, Limits
from app.studio import Studio
from app.tabs import generate, span
from patchdm_core import PatchDM
from patchdm_core.composition.designs import FAMILIES
from patchdm_core.runtime.images import parse_infotext
from tests.app.test_handlers import finals, picture, run_all, saved

KEYS = {"Composition", "Layout seed", "Layout family", "Compose", "Structure strength", "Structure band"}


@pytest.fixture
def studio(tiny_pipe: PatchDM, tmp_path: Path) -> Studio:
    return Studio(tiny_pipe, History(tmp_path / "outputs"), Limits(max_pixels=128 * 128))


def params_of(path: Path) -> dict[str, str]:
    return parse_infotext(read_parameters(path))


def test_a_designed_layout_of_one_family_at_a_strength_writes_the_command_lines_keys(studio: Studio) -> None:
    family = list(FAMILIES)[1]
    [path] = finals(run_all(studio.generate(64, 32, steps=2, seed=4, composition="designed", layout_family=family,
                                            layout_strength=0.5)))  # fmt: skip
    params = params_of(path)
    assert KEYS | {"Structure stop"} <= set(params)
    assert params["Layout family"] == family and params["Structure strength"] == "0.5" and params["Layout seed"] == "4"
    [held] = finals(run_all(studio.generate(64, 32, steps=2, seed=4, composition="designed", layout_family=family)))
    [free] = finals(run_all(studio.generate(64, 32, steps=2, seed=4, composition="designed", layout_family=family,
                                            layout_strength=0)))  # fmt: skip
    assert not np.array_equal(np.asarray(Image.open(held)), np.asarray(Image.open(free)))
    for kw, words in (({"layout_family": "spirals"}, "unknown layout family"), ({"layout_strength": 2}, "between 0")):
        with pytest.raises(InputError, match=words):
            run_all(studio.generate(64, 32, steps=2, seed=4, composition="designed", **kw))


def test_the_reference_pictures_own_composition(studio: Studio, tmp_path: Path) -> None:
    ref = tmp_path / "ref.png"
    arr = np.zeros((32, 64, 3), np.uint8)
    arr[:, :32] = (240, 200, 40)
    arr[:, 32:] = (20, 40, 160)
    Image.fromarray(arr).save(ref)
    [path] = finals(run_all(studio.generate(64, 32, steps=4, seed=2, style=str(ref), composition="picture")))
    params = params_of(path)
    assert params["Composition"] == "picture" and params["Layout"] == "ref.png" and params["Compose"] == "structure"
    out = np.asarray(Image.open(path).convert("RGB")).astype(float)
    assert out[:, :24, 0].mean() > out[:, 40:, 0].mean() + 60  # its warm half on the left, as the reference's
    with pytest.raises(InputError, match="needs a reference picture"):
        run_all(studio.generate(64, 32, steps=2, seed=2, composition="picture"))


def test_compositions_tile_paint_off_grid_and_in_batches(studio: Studio) -> None:
    [tile] = finals(run_all(studio.generate(48, 32, steps=2, seed=1, composition="designed", tileable=True)))
    assert Image.open(tile).size == (48, 32) and params_of(tile)["Tileable"] == "xy"
    [off] = finals(run_all(studio.generate(40, 30, steps=2, seed=1, composition="designed")))
    assert Image.open(off).size == (40, 30)
    updates = run_all(studio.generate(32, 32, steps=2, seed=8, batch=2, composition="designed"))
    batch = finals(updates)
    assert [params_of(p)["Layout seed"] for p in batch] == ["8", "9"]
    assert sum(u.preview is not None for u in updates) >= 2


def test_a_span_on_a_composition_and_a_stopped_composition(studio: Studio) -> None:
    updates = run_all(studio.span("48x32+0+0,32x32+48+0", 0, steps=2, seed=3, composition="designed"))
    assert params_of(updates[-1].final)["Composition"] == "designed"
    stop = threading.Event()
    stop.set()
    updates = run_all(studio.generate(64, 32, steps=4, seed=1, composition="designed", stop=stop))
    assert updates[-1].stopped and updates[-1].status.startswith("Stopped at the start (seed 1)")
    assert len(saved(studio)) == 1  # the span's picture only


def test_vary_subtle_and_strong_keep_the_picture_and_its_settings(studio: Studio) -> None:
    [src] = finals(run_all(studio.generate(64, 32, steps=6, seed=5, sampler="dpmpp-2m")))
    subtle = finals(run_all(studio.vary(str(src), "subtle")))[0]
    strong = finals(run_all(studio.vary(str(src), "strong")))[0]
    p_sub, p_str = params_of(subtle), params_of(strong)
    assert p_sub["Vary"] == "subtle" and p_sub["Strength"] == "0.45" and p_str["Strength"] == "0.6"
    assert p_sub["Sampler"] == "DPM++ 2M" and p_sub["Steps"] == "6" and p_sub["Seed"] != "5"  # its own settings
    assert Image.open(subtle).size == (64, 32) and "-vary-" in subtle.name
    a, b, c = (np.asarray(Image.open(p).convert("RGB")).astype(float) for p in (src, subtle, strong))
    assert np.abs(a - b).mean() < np.abs(a - c).mean()  # strong repaints more of it
    with pytest.raises(InputError, match="no picture to vary"):
        run_all(studio.vary(None, "subtle"))
    with pytest.raises(InputError, match="subtle or strong"):
        run_all(studio.vary(str(src), "wild"))


def test_a_pictures_parameters_become_its_tabs_settings(studio: Studio) -> None:
    [path] = finals(run_all(studio.generate(48, 32, steps=3, seed=6, composition="designed", layout_strength=0.7,
                                            guidance_interval="100-900")))  # fmt: skip
    settings = generate.settings_of(params_of(path))
    assert settings["gen-width"] == 48 and settings["gen-height"] == 32 and settings["gen-seed"] == 6
    assert settings["gen-composition"] == "designed" and settings["gen-layout-strength"] == 0.7
    assert settings["gen-interval"] == "100-900" and settings["gen-steps"] == 3 and settings["gen-quality"] == "custom"
    assert settings["gen-family"] in FAMILIES
    done = run_all(studio.span("48x32+0+0,32x16+48+8", 8, steps=2, seed=5))[-1]
    spanned = span.settings_of(params_of(done.final))
    assert spanned["span-monitors"] == "48x32+0+0,32x16+48+8" and spanned["span-bezel"] == 8


def test_history_filters_by_kind_and_text_and_deletes_into_a_folder(studio: Studio, tmp_path: Path) -> None:
    [gen] = finals(run_all(studio.generate(32, 32, steps=2, seed=11)))
    [up] = finals(run_all(studio.upscale(picture(16, 16), "×2", steps=2, seed=12)))
    history = studio.history
    assert [p for p, _ in history.gallery(kind="upscale")] == [str(up)]
    assert [p for p, _ in history.gallery(text="seed: 11")] == [str(gen)]
    moved = history.delete(gen)
    assert moved == history.root / "deleted" / gen.name and moved.exists() and history.items() == [up]
    assert history.delete(tmp_path / "elsewhere.png") is None
