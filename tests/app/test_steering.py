"""The Sketch and Upscale actions of the app (tiny model, 16-px patches), without a browser."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.shared.history import History, read_parameters
from app.shared.imaging import InputError, Limits
from app.studio import Studio
from app.tabs.sketch import compose_sketch
from patchdm_core import PatchDM
from patchdm_core.runtime.images import parse_infotext
from tests.app.test_handlers import finals, picture, run_all, saved, stroke


@pytest.fixture
def studio(tiny_pipe: PatchDM, tmp_path: Path) -> Studio:
    return Studio(tiny_pipe, History(tmp_path / "outputs"), Limits(max_pixels=128 * 128, max_upload_bytes=200_000))


def sketch_value(w: int = 48, h: int = 32) -> dict:
    """An editor value: no background (a transparent canvas), a sky-blue and a green stroke layer."""
    sky, ground = np.zeros((h, w, 4), np.uint8), np.zeros((h, w, 4), np.uint8)
    sky[: h // 2] = (90, 160, 230, 255)
    ground[h // 2 + 4 :] = (40, 110, 50, 255)
    return {"background": None, "layers": [Image.fromarray(sky, "RGBA"), Image.fromarray(ground, "RGBA")]}


def test_compose_sketch_stacks_layers_and_keeps_transparency() -> None:
    sketch, transparent = compose_sketch(sketch_value(), Limits(), 16)
    assert sketch.mode == "RGBA" and sketch.size == (48, 32) and transparent
    assert sketch.getpixel((0, 0)) == (90, 160, 230, 255) and sketch.getpixel((0, 31)) == (40, 110, 50, 255)
    assert sketch.getpixel((0, 17))[3] == 0  # the unpainted band between the strokes
    opaque, transparent = compose_sketch(
        {"background": picture(), "layers": [stroke(48, 32, (0, 0, 8, 8))]}, Limits(), 16
    )
    assert not transparent and opaque.getpixel((2, 2))[:3] != picture().getpixel((2, 2))
    for empty in (None, {"background": None, "layers": []}, {"background": Image.new("RGBA", (32, 32)), "layers": []}):
        with pytest.raises(InputError, match="the sketch is empty"):
            compose_sketch(empty, Limits(), 16)


def test_sketch_paints_the_chosen_size_and_records_its_parameters(studio: Studio) -> None:
    updates = run_all(studio.sketch(sketch_value(), 96, 64, strength=0.5, steps=4, seed=3))
    [path] = finals(updates)
    assert Image.open(path).size == (96, 64)
    params = parse_infotext(read_parameters(path))
    assert params["Mode"] == "sketch" and params["Strength"] == "0.5" and params["Source"] == "sketch 48x32"
    assert any("transparent areas" in (u.note or "") for u in updates)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"editor": None}, "the sketch is empty"),
        ({"strength": 1.5}, "strength must be a number between 0 and 1"),
        ({"strength": float("nan")}, "strength must be a number between 0 and 1"),
        ({"width": 512, "height": 512}, "over the limit"),
        ({"width": 0}, "width must be a whole number between 1 and 65536"),
    ],
)
def test_sketch_rejects_bad_input_and_writes_nothing(studio: Studio, kwargs: dict, message: str) -> None:
    args = {"editor": sketch_value(), "width": 64, "height": 32, "steps": 2} | kwargs
    with pytest.raises(InputError, match=message):
        run_all(studio.sketch(**args))
    assert saved(studio) == []


def test_upscale_doubles_a_picture(studio: Studio, tmp_path: Path) -> None:
    src = tmp_path / "small.png"
    picture(32, 16).save(src)
    [path] = finals(run_all(studio.upscale(str(src), "×2", strength=0.4, steps=4, seed=1)))
    assert Image.open(path).size == (64, 32)
    params = parse_infotext(read_parameters(path))
    assert params["Mode"] == "upscale" and params["Source"] == "32x16" and params["Strength"] == "0.4"
    [path] = finals(run_all(studio.upscale(str(src), "size", 80, 40, steps=2, seed=1)))
    assert Image.open(path).size == (80, 40)
    assert studio.upscale_plan(str(src), "×4", None, None) == "32×16 → 128×64 (32 patches)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("×4",), None),  # 48x32 x4 = 192x128: over the 128x128 limit of this studio
        (("size", 0, 0), "width must be a whole number between 1 and 65536"),
        (("×3",), "unknown upscale factor"),
    ],
)
def test_upscale_refuses_targets_it_cannot_paint(studio: Studio, tmp_path: Path, args: tuple, message) -> None:
    src = tmp_path / "p.png"
    picture(48, 32).save(src)
    with pytest.raises(InputError, match=message or "over the limit"):
        run_all(studio.upscale(str(src), *args, steps=2))
    assert saved(studio) == []
    assert studio.upscale_plan(str(src), *(args + (None, None))[:3]).startswith("⚠")
