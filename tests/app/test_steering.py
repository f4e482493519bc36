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
    updates = run_all(studio.sketch(sketch_value(), 96, 64, steps=4, seed=3))  # structure guidance, the default
    [path] = finals(updates)
    assert Image.open(path).size == (96, 64)
    params = parse_infotext(read_parameters(path))
    assert params["Mode"] == "sketch" and params["Compose"] == "structure" and params["Source"] == "sketch 48x32"
    assert params["Structure strength"] == "1.0" and "Strength" not in params
    assert any("transparent areas" in (u.note or "") for u in updates)
    updates = run_all(studio.sketch(sketch_value(), 96, 64, strength=0.5, steps=4, seed=3, how="img2img"))
    params = parse_infotext(read_parameters(finals(updates)[0]))
    assert params["Compose"] == "img2img" and params["Strength"] == "0.5"


def test_a_sketch_by_structure_keeps_its_colours_where_painted_and_none_where_transparent(studio: Studio) -> None:
    """Structure guidance gives the canvas the sketch's low band where it is painted (weight 1) and nothing where
    it is transparent (weight 0): with an untrained model the painted rows come out near the sketch's colours,
    the transparent band does not."""
    [path] = finals(run_all(studio.sketch(sketch_value(), 48, 32, steps=4, seed=3)))
    out = np.asarray(Image.open(path).convert("RGB")).astype(float)
    sky, ground = np.array([90, 160, 230]), np.array([40, 110, 50])
    assert np.abs(out[2:6].mean(axis=(0, 1)) - sky).max() < 40  # inside the sky stroke, away from its edge
    assert np.abs(out[28:31].mean(axis=(0, 1)) - ground).max() < 40
    [free] = finals(run_all(studio.sketch(sketch_value(), 48, 32, steps=4, seed=3, follow=0)))
    free = np.asarray(Image.open(free).convert("RGB")).astype(float)
    assert np.abs(free[2:6].mean(axis=(0, 1)) - sky).max() > np.abs(out[2:6].mean(axis=(0, 1)) - sky).max()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"editor": None}, "the sketch is empty"),
        ({"strength": 1.5, "how": "img2img"}, "strength must be a number between 0 and 1"),
        ({"strength": float("nan"), "how": "img2img"}, "strength must be a number between 0 and 1"),
        ({"follow": 2}, "follow must be a number between 0 and 1"),
        ({"how": "magic"}, "how must be one of structure, img2img"),
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
    [path] = finals(run_all(studio.upscale(str(src), "×2", steps=4, seed=1)))  # add detail at 0.6, the default
    assert Image.open(path).size == (64, 32)
    params = parse_infotext(read_parameters(path))
    assert params["Mode"] == "upscale" and params["Source"] == "32x16"
    assert params["Upscale"] == "structure" and params["Strength"] == "0.6"
    [path] = finals(run_all(studio.upscale(str(src), "×2", strength=0.4, steps=4, seed=1, how="img2img")))
    params = parse_infotext(read_parameters(path))
    assert params["Upscale"] == "img2img" and params["Strength"] == "0.4"
    [path] = finals(run_all(studio.upscale(str(src), "size", 80, 40, steps=2, seed=1)))
    assert Image.open(path).size == (80, 40)
    plan = "32×16 → 128×64 (32 patches × 2 of 4 steps) · time: measured after the first job"
    assert studio.upscale_plan(str(src), "×4", None, None) == plan


def test_upscale_to_a_screen_of_another_shape_cuts_the_centre_never_stretches(studio: Studio, tmp_path: Path) -> None:
    src = tmp_path / "wide.png"
    picture(64, 16).save(src)  # 4:1, to a 2:1 target
    updates = run_all(studio.upscale(str(src), "size", 64, 32, steps=2, seed=1))
    [path] = finals(updates)
    assert Image.open(path).size == (64, 32)
    assert parse_infotext(read_parameters(path))["Source"] == "64x16 (centre 32x16)"
    assert any("centre 32×16 is enlarged" in (u.note or "") for u in updates)
    assert "the picture's centre 32×16" in studio.upscale_plan(str(src), "size", 64, 32)


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
    assert studio.upscale_plan(str(src), *(args + (None, None))[:4]).startswith("⚠")
