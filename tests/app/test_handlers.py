"""The app's handlers and conversions without a browser or a server (tiny model, 16-px patches)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from app.shared.history import History, read_parameters
from app.shared.imaging import InputError, Limits, Unreadable, load_picture, size_note, snap
from app.shared.jobs import Jobs, Update
from app.studio import Studio
from app.tabs.inpaint import keep_mask, painted_pixels, picture_and_mask
from patchdm_core import PatchDM
from patchdm_core.composition.designs import FAMILIES
from patchdm_core.runtime.images import parse_infotext


@pytest.fixture
def studio(tiny_pipe: PatchDM, tmp_path: Path) -> Studio:
    return Studio(tiny_pipe, History(tmp_path / "outputs"), Limits(max_pixels=128 * 128, max_upload_bytes=200_000))


def picture(w: int = 48, h: int = 32, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def stroke(w: int, h: int, box: tuple[int, int, int, int]) -> Image.Image:
    """An editor layer: transparent except an opaque stroke over box = (x0, y0, x1, y1)."""
    arr = np.zeros((h, w, 4), np.uint8)
    x0, y0, x1, y1 = box
    arr[y0:y1, x0:x1] = (255, 46, 136, 166)
    return Image.fromarray(arr, "RGBA")


def run_all(updates) -> list[Update]:
    return list(updates)


def finals(updates: list[Update]) -> list[Path]:
    return [u.final for u in updates if u.final is not None]


def saved(studio: Studio) -> list[Path]:
    return studio.history.items()


# -- generate ---------------------------------------------------------------------------------


def test_generate_streams_previews_then_a_png_of_the_asked_size(studio: Studio) -> None:
    updates = run_all(studio.generate(40, 24, steps=5, seed=11))  # off the 16-px grid
    previews = [u.preview for u in updates if u.preview is not None]
    assert len(previews) >= 2 and all(max(p.size) <= 768 for p in previews)
    [path] = finals(updates)
    assert Image.open(path).size == (40, 24) and Image.open(path).format == "PNG"
    params = parse_infotext(read_parameters(path))
    assert params["Seed"] == "11" and params["Size"] == "40x24" and params["Steps"] == "5"
    assert params["Mode"] == "feature" and params["Model"] == "tiny-untrained"
    steps = [u for u in updates if u.total and u.final is None]
    assert [u.index for u in steps] == [1, 2, 3, 4, 5] and steps[-1].total == 5
    assert (updates[-1].index, updates[-1].total) == (5, 5)
    assert "6 patches × 5 steps" in steps[0].status and "ETA" in steps[0].status
    assert any("painted at 48×32 and centre-cropped" in u.status for u in updates)
    assert updates[-1].history_changed and saved(studio) == [path]


def test_random_seed_is_resolved_shown_and_saved(studio: Studio) -> None:
    updates = run_all(studio.generate(32, 32, steps=2, seed=-1))
    [path] = finals(updates)
    seed = updates[-1].seed
    assert isinstance(seed, int) and seed >= 0
    assert parse_infotext(read_parameters(path))["Seed"] == str(seed) and f"-{seed}-" in path.name


def test_batch_uses_consecutive_seeds_and_same_seed_repeats(studio: Studio) -> None:
    paths = finals(run_all(studio.generate(32, 32, steps=2, seed=5, batch=2)))
    assert [parse_infotext(read_parameters(p))["Seed"] for p in paths] == ["5", "6"]
    again = finals(run_all(studio.generate(32, 32, steps=2, seed=6)))
    assert np.array_equal(np.asarray(Image.open(again[0])), np.asarray(Image.open(paths[1])))
    assert not np.array_equal(np.asarray(Image.open(paths[0])), np.asarray(Image.open(paths[1])))


@pytest.mark.parametrize(
    ("mode", "tileable"), [("feature", True), ("naive", False), ("pixel", False), ("sliding", False)]
)
def test_comparison_modes_and_tileable(studio: Studio, mode: str, tileable: bool) -> None:
    [path] = finals(run_all(studio.generate(32, 48, steps=2, seed=1, mode=mode, tileable=tileable)))
    params = parse_infotext(read_parameters(path))
    assert params["Mode"] == mode and params.get("Tileable") == ("xy" if tileable else None)
    assert Image.open(path).size == (32, 48)


def test_sampler_grid_and_eta_reach_the_picture_and_its_parameters(studio: Studio) -> None:
    [default] = finals(run_all(studio.generate(32, 32, steps=3, seed=1)))
    params = parse_infotext(read_parameters(default))
    assert (params["Sampler"], params["Grid"], params["Eta"]) == ("DDIM", "fixed", "0.0")  # the tiny model's
    [dpm] = finals(run_all(studio.generate(32, 32, steps=3, seed=1, sampler="dpmpp-2m", grid="random", eta=0.5)))
    params = parse_infotext(read_parameters(dpm))
    assert (params["Sampler"], params["Grid"], params["Eta"]) == ("DPM++ 2M", "random", "0.5")
    assert not np.array_equal(np.asarray(Image.open(dpm)), np.asarray(Image.open(default)))


def test_style_reference_sets_the_code(studio: Studio, tmp_path: Path) -> None:
    ref = tmp_path / "ref.png"
    picture(64, 32, seed=3).save(ref)
    [styled] = finals(run_all(studio.generate(32, 32, steps=2, seed=1, style=str(ref))))
    [plain] = finals(run_all(studio.generate(32, 32, steps=2, seed=1)))
    assert parse_infotext(read_parameters(styled))["Style"] == "ref.png"
    assert not np.array_equal(np.asarray(Image.open(styled)), np.asarray(Image.open(plain)))


def test_style_reference_brings_its_colours(studio: Studio, tmp_path: Path) -> None:
    ref = tmp_path / "orange.png"
    Image.new("RGB", (64, 32), (230, 120, 20)).save(ref)
    [styled] = finals(run_all(studio.generate(64, 32, steps=3, seed=1, style=str(ref))))
    [plain] = finals(run_all(studio.generate(64, 32, steps=3, seed=1)))
    target = np.array([230, 120, 20])
    [code_only] = finals(run_all(studio.generate(64, 32, steps=3, seed=1, style=str(ref), palette=0)))
    distance = [np.abs(np.asarray(Image.open(p).convert("RGB"), float) - target).mean() for p in (styled, plain)]
    assert distance[0] < 0.7 * distance[1], distance  # 3 steps at the default strength: 1 - 0.75^3 of the way
    assert parse_infotext(read_parameters(styled))["Palette strength"] == "0.25"
    assert not np.array_equal(np.asarray(Image.open(code_only)), np.asarray(Image.open(styled)))


def test_stop_halts_within_a_step_keeps_preview_and_saves_nothing(studio: Studio) -> None:
    stop = threading.Event()
    seen: list[Update] = []
    for u in studio.generate(32, 32, steps=50, seed=1, stop=stop):
        seen.append(u)
        if u.index == 2:
            stop.set()
    assert seen[-1].status.startswith("Stopped at step 2/50") and seen[-1].preview is None
    assert max(u.index for u in seen) == 2 and saved(studio) == []
    assert finals(run_all(studio.generate(32, 32, steps=2, seed=1))), "the next job runs normally"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 256, "height": 128}, "over the limit"),
        ({"width": 0, "height": 32}, "width must be a whole number between 1 and 65536"),
        ({"width": 32, "height": 32, "mode": "magic"}, "unknown sampler mode"),
        ({"width": 32, "height": 32, "batch": 99}, "batch must be a whole number between 1 and 16"),
        ({"width": 32, "height": 32, "mode": "naive", "tileable": True}, "tileable output needs the feature"),
        ({"width": 32, "height": 32, "seed": 1.5}, "whole number"),
        ({"width": 32, "height": 32, "steps": 5000}, "steps must be"),
        ({"width": 32, "height": 32, "sampler": "euler"}, "unknown sampler 'euler'"),
        ({"width": 32, "height": 32, "grid": "wobbly"}, "unknown grid rule"),
        ({"width": 32, "height": 32, "eta": 3}, "eta must be a number between 0 and 1"),
        ({"width": 32, "height": 32, "style": Unreadable("broken")}, "could not read the style reference"),
    ],
)
def test_generate_rejects_bad_input_and_writes_nothing(studio: Studio, kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        run_all(studio.generate(**kwargs))
    assert saved(studio) == []


def test_plan_text_says_how_long_once_the_pace_is_known(studio: Studio) -> None:
    assert studio.plan(64, 32, 7) == "8 patches × 7 steps · time: measured after the first job"
    assert "painted at 48×32" in studio.plan(40, 30, 7)
    assert studio.plan(4096, 4096, 7).startswith("⚠")
    studio.pace.rate = 100.0  # s per megapixel-step: 64x32 at 7 guided steps is 0.029 of them
    assert studio.plan(64, 32, 7) == "8 patches × 7 steps · about 3 s here"
    assert studio.plan(64, 32, 7, guidance=1) == "8 patches × 7 steps · about 1 s here"  # one pass a step


# -- uploads and masks ---------------------------------------------------------------------------


def test_uploads_of_every_mode_become_8bit_rgb_with_a_note(tmp_path: Path) -> None:
    limits = Limits()
    rgba = Image.new("RGBA", (8, 4), (10, 20, 30, 0))
    img, note = load_picture(rgba, limits)
    assert img.mode == "RGB" and img.getpixel((0, 0)) == (255, 255, 255) and "transparent" in note
    grey, note = load_picture(Image.new("L", (8, 4), 77), limits)
    assert grey.getpixel((0, 0)) == (77, 77, 77) and "greyscale" in note
    deep = tmp_path / "deep.png"
    Image.fromarray(np.full((4, 8), 65535, np.uint16)).save(deep)
    img, note = load_picture(str(deep), limits)
    assert img.mode == "RGB" and img.getpixel((0, 0)) == (255, 255, 255) and "16-bit" in note
    opaque, note = load_picture(Image.new("RGBA", (8, 4), (1, 2, 3, 255)), limits)
    assert opaque.getpixel((0, 0)) == (1, 2, 3) and note == ""


def test_bad_uploads_give_clear_messages(tmp_path: Path) -> None:
    limits = Limits(max_pixels=64 * 64, max_upload_bytes=10_000)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\nthis is not a picture")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    truncated = tmp_path / "truncated.png"
    picture(48, 32).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:300])
    big = tmp_path / "big.png"
    Image.new("RGB", (80, 80), (9, 9, 9)).save(big)
    huge = tmp_path / "huge.bmp"
    picture(60, 60).save(huge)  # ~10.8 kB uncompressed
    cases = [
        (None, "upload a picture first"),
        (Unreadable("x"), "could not read"),
        (str(corrupt), "not a PNG, JPEG"),
        (str(text), "not a PNG, JPEG"),
        (str(truncated), "damaged or truncated"),
        (str(big), "over the limit"),
        (str(huge), "upload limit"),
        (str(tmp_path / "gone.png"), "missing"),
    ]
    for src, message in cases:
        with pytest.raises(InputError, match=message):
            load_picture(src, limits)


def test_editor_value_to_picture_and_keep_mask() -> None:
    bg = picture(48, 32).convert("RGBA")
    value = {"background": bg, "layers": [stroke(48, 32, (16, 8, 32, 24))], "composite": bg}
    img, painted, note = picture_and_mask(value, Limits())
    assert img.size == (48, 32) and img.mode == "RGB" and note == ""
    assert painted.sum() == 16 * 16 and painted[8:24, 16:32].all()
    keep = keep_mask(painted)
    assert keep.shape == (1, 1, 32, 48) and keep.dtype == torch.float32
    assert keep[0, 0, 10, 20] == 0 and keep[0, 0, 0, 0] == 1  # painted = repaint -> core 0 = repaint


def test_editor_layers_union_numpy_and_plain_mask_pictures() -> None:
    bg = np.asarray(picture(48, 32))
    a, b = np.asarray(stroke(48, 32, (0, 0, 4, 4))), np.asarray(stroke(48, 32, (40, 28, 48, 32)))
    _, painted, _ = picture_and_mask({"background": bg, "layers": [a, b], "composite": bg}, Limits())
    assert painted.sum() == 16 + 32
    bw = Image.new("L", (48, 32), 0)
    bw.paste(255, (0, 0, 10, 10))  # white = repaint, for masks uploaded through the API
    assert painted_pixels(bw).sum() == 100


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([], "the mask is empty"),
        ([Image.new("RGBA", (48, 32), (0, 0, 0, 0))], "the mask is empty"),
        ([stroke(40, 32, (0, 0, 8, 8))], "the mask is 40×32 but the picture is 48×32"),
        ([Unreadable("nope")], "could not read the mask"),
    ],
)
def test_bad_masks(layers: list, message: str) -> None:
    bg = picture(48, 32)
    with pytest.raises(InputError, match=message):
        picture_and_mask({"background": bg, "layers": layers, "composite": bg}, Limits())


def test_grid_helpers() -> None:
    assert size_note(64, 32, 16) == "" and "painted at 2560×1472" in size_note(2560, 1440, 64)
    assert "2560×1408 and resampled with wrap-around" in size_note(2560, 1440, 64, (2560, 1408))
    assert (snap(50), snap(31), snap(96), snap(-10)) == (64, 0, 128, 0)


# -- inpaint and outpaint (the editing API of patchdm_core) -------------------------------------


def test_inpaint_repaints_only_the_painted_area(studio: Studio) -> None:
    bg = picture(48, 32, seed=4)
    value = {"background": bg.convert("RGBA"), "layers": [stroke(48, 32, (16, 0, 32, 16))], "composite": bg}
    updates = run_all(studio.inpaint(value, blur=0, steps=4, seed=2))
    assert sum(u.preview is not None for u in updates) >= 2
    [path] = finals(updates)
    out, src = np.asarray(Image.open(path)), np.asarray(bg)
    assert out.shape == src.shape
    assert np.array_equal(out[20:], src[20:]) and np.array_equal(out[:, :12], src[:, :12])
    assert not np.array_equal(out[:16, 16:32], src[:16, 16:32])
    params = parse_infotext(read_parameters(path))
    assert params["Mode"] == "inpaint" and params["Inpaint"] == "fast" and params["Seed"] == "2"


def test_inpaint_harmonized_only_masked(studio: Studio) -> None:
    bg = picture(64, 64, seed=5)
    value = {"background": bg, "layers": [stroke(64, 64, (0, 0, 8, 8))], "composite": bg}
    updates = run_all(studio.inpaint(value, method="harmonized", only_masked=True, margin=16, steps=4, seed=1))
    [path] = finals(updates)
    assert Image.open(path).size == (64, 64)
    assert "4 patches" in updates[-1].status  # 8 px + blur 8 + margin 16 -> 2x2 cells of 16 px
    assert np.array_equal(np.asarray(Image.open(path))[40:], np.asarray(bg)[40:])


def test_inpaint_bad_input_writes_nothing(studio: Studio) -> None:
    bg = picture(48, 32)
    for value, message in [
        (None, "upload a picture first"),
        ({"background": bg, "layers": [], "composite": bg}, "the mask is empty"),
        ({"background": bg, "layers": [stroke(32, 32, (0, 0, 4, 4))], "composite": bg}, "does not match|but the"),
        ({"background": picture(200, 200), "layers": [], "composite": None}, "over the limit"),
    ]:
        with pytest.raises(InputError, match=message):
            run_all(studio.inpaint(value, steps=2, seed=1))
    with pytest.raises(InputError, match="method"):
        run_all(studio.inpaint({"background": bg, "layers": [stroke(48, 32, (0, 0, 4, 4))]}, method="slow"))
    assert saved(studio) == []


def test_outpaint_grows_the_canvas_and_keeps_the_old_picture(studio: Studio) -> None:
    src = picture(48, 32, seed=6)
    updates = run_all(studio.outpaint(src, top=0, right=50, bottom=0, left=0, feather=8, steps=4, seed=3))
    [path] = finals(updates)
    out = np.asarray(Image.open(path))
    assert out.shape == (32, 48 + 64, 3)  # 50 px snapped to 64
    assert np.array_equal(out[:, :40], np.asarray(src)[:, :40])  # outside the 8-px feather band
    assert any("snapped to the 64-px grid" in u.status for u in updates)
    params = parse_infotext(read_parameters(path))
    assert params["Extend"] == "0,64,0,0" and params["Size"] == "112x32" and params["Mode"] == "outpaint"


def test_edit_strength_runs_that_share_of_the_steps_and_is_recorded(studio: Studio) -> None:
    from app.shared.cost import JobCost

    bg = picture(48, 32, seed=4)
    value = {"background": bg, "layers": [stroke(48, 32, (16, 0, 32, 16))], "composite": bg}
    updates = run_all(studio.inpaint(value, blur=0, steps=4, seed=2, strength=0.5, content="original"))
    assert "× 2 of 4 steps" in updates[-1].status
    params = parse_infotext(read_parameters(finals(updates)[0]))
    assert params["Strength"] == "0.5" and params["Content"] == "original"
    updates = run_all(studio.outpaint(picture(48, 32), 0, 64, 0, 0, 8, steps=4, seed=1))  # the default, 0.7
    assert "× 3 of 4 steps" in updates[-1].status
    assert parse_infotext(read_parameters(finals(updates)[0]))["Strength"] == "0.7"
    for kw, message in [
        ({"strength": 0.1}, "repaints nothing in 4 steps"),
        ({"strength": 1.5}, "strength"),
        ({"content": "noise"}, "start from must be"),
    ]:
        with pytest.raises(InputError, match=message):
            run_all(studio.inpaint(value, steps=4, seed=1, **kw))
    need = JobCost(studio)
    full = need("outpaint", (picture(48, 32), 0, 64, 0, 0, 8, 4, 1.5, 1, None, None, None, 1.0)).cost(studio.p)
    half = need("outpaint", (picture(48, 32), 0, 64, 0, 0, 8, 4, 1.5, 1, None, None, None, 0.5)).cost(studio.p)
    default = need("outpaint", (picture(48, 32), 0, 64, 0, 0, 8, 4, 1.5)).cost(studio.p)
    assert half == pytest.approx(full / 2) and default == pytest.approx(full * 3 / 4)  # 0.7 runs 3 of 4 steps


def test_outpaint_layout_and_bad_input(studio: Studio) -> None:
    sketch, text = studio.outpaint_layout(picture(48, 32), 64, 0, 0, 64, 16)
    assert sketch.size == (112, 96) and text.startswith("48×32 → 112×96")
    for args, message in [((0, 0, 0, 0), "nothing to extend"), ((0, 512, 0, 0), "over the limit")]:
        with pytest.raises(InputError, match=message):
            run_all(studio.outpaint(picture(48, 32), *args, steps=2, seed=1))
    assert saved(studio) == []


def test_jobs_stop_only_the_running_job_of_that_session() -> None:
    jobs = Jobs()
    assert jobs.stop("a").startswith("Nothing is running")
    flag_a, flag_b = jobs.start("a"), jobs.start("b")
    assert jobs.stop("a").startswith("Stopping") and flag_a.is_set() and not flag_b.is_set()
    jobs.finish("a", flag_a)
    assert jobs.stop("a").startswith("Nothing is running")


def test_stop_reaches_a_job_that_arrived_before_it_even_if_not_admitted_yet() -> None:
    """A job whose request arrived before its session's Stop never starts, though Stop found no record of it
    (its admission check was still decoding its pictures); one that arrived after it runs."""
    import time

    jobs = Jobs()
    before = time.monotonic()
    assert jobs.stop("a").startswith("Nothing is running")
    assert jobs.start("a", object(), arrived=before) is None
    assert jobs.start("b", object(), arrived=before) is not None  # another session's job runs
    assert jobs.start("a", object(), arrived=time.monotonic()) is not None


def test_admission_counts_jobs_on_their_way_into_the_queue() -> None:
    """Gradio appends an admitted job to its queue a moment after the check: until it shows there, it
    still counts; one that shows is counted once; one that started is not counted at all."""
    jobs, a, b, c, d = Jobs(), object(), object(), object(), object()
    assert jobs.admit("s", a, queued=[], limit=2) and jobs.admit("s", b, queued=[a], limit=2)
    assert not jobs.admit("s", c, queued=[a], limit=2)  # a queued, b on its way: full
    jobs.start("s", a)
    assert jobs.admit("s", c, queued=[b], limit=2)  # a left the queue for the worker
    assert not jobs.admit("s", d, queued=[b, c], limit=2)
    assert jobs.admit("s", d)  # no limit: the old behaviour


def test_stop_cancels_the_queued_jobs_of_that_session_only() -> None:
    jobs, queued_a, queued_b, later_a = Jobs(), object(), object(), object()
    jobs.admit("a", queued_a)
    jobs.admit("b", queued_b)
    assert jobs.stop("a") == "cancelled 1 queued job…"
    assert jobs.start("a", queued_a) is None  # it never runs
    flag = jobs.start("b", queued_b)
    assert flag is not None and not flag.is_set()
    jobs.finish("b", flag)
    jobs.admit("a", later_a)  # a job queued after the Stop runs normally
    assert jobs.start("a", later_a) is not None


def test_history_names_are_unique_and_writes_atomic(tmp_path: Path) -> None:
    history = History(tmp_path)
    paths = {history.save(picture(8, 8), {"Seed": 1}, "generate", 1) for _ in range(5)}
    assert len(paths) == 5 and not list(tmp_path.glob(".tmp-*"))
    assert history.items()[0] in paths and history.serves(next(iter(paths)))
    assert not history.serves(tmp_path.parent / "elsewhere.png")
    assert history.gallery()[0][1] == "generate · seed 1"


# -- span ----------------------------------------------------------------------------------------


def test_span_saves_the_whole_and_each_monitors_exact_crop_and_zips_them(studio: Studio) -> None:
    import zipfile

    updates = run_all(studio.span("48x32+0+0,32x16+48+8", 8, steps=2, seed=5))
    done = updates[-1]
    assert done.status.startswith("Done: span · 2 monitors · 88×32") and done.download.suffix == ".zip"
    whole = np.asarray(Image.open(done.final))
    files = sorted((studio.history.root / "spans").glob("*-monitor*.png"))
    assert len(files) == 2 and saved(studio) == [done.final]  # one History entry; the monitors beside the ZIP
    crops = {parse_infotext(read_parameters(f))["Monitor"]: np.asarray(Image.open(f)) for f in files}
    assert np.array_equal(crops["1/2"], whole[0:32, 0:48]) and np.array_equal(crops["2/2"], whole[8:24, 56:88])
    assert zipfile.ZipFile(done.download).namelist() == ["monitor1.png", "monitor2.png"]
    assert studio.history.recent_sizes() == [(88, 32)]


def test_span_plan_and_monitor_list(studio: Studio) -> None:
    from app.tabs.span import add_monitor

    layout, text = studio.span_plan("48x32+0+0,32x16+48+8", 8)
    assert text.startswith("2 monitors · canvas 88×32") and layout.width > layout.height
    assert (
        studio.span_plan("48x32+0+0,32x16+40+8", 0)[1].startswith("⚠")
        and "overlap" in studio.span_plan("48x32+0+0,32x16+40+8", 0)[1]
    )
    assert add_monitor("", "1080p") == "1920x1080+0+0"
    assert add_monitor("1920x1080+0+0", "1440p") == "1920x1080+0+0,2560x1440+1920+0"
    assert add_monitor("1920x1080+0+0", "phone-1080", "-1080", "-600") == "1920x1080+0+0,1080x2400-1080-600"
    with pytest.raises(InputError, match="pick a screen"):
        add_monitor("", "8k")
    with pytest.raises(InputError, match="over the limit"):
        run_all(studio.span("4k+0+0", 0, steps=1))
    assert saved(studio) == []


def test_generate_on_a_layout_keeps_its_shapes_and_says_so(tiny_pipe: PatchDM, tmp_path: Path) -> None:
    from patchdm_core.composition.sources import LayoutBank

    thumbs = torch.full((2, 3, 32, 64), -0.7)
    thumbs[:, :, :16] = 0.8  # a bright sky over a dark field
    studio = Studio(tiny_pipe, History(tmp_path / "outputs"), Limits(max_pixels=128 * 128), layouts=LayoutBank(thumbs))
    updates = run_all(studio.generate(64, 32, steps=6, seed=3, composition="layouts"))  # the old name still works
    [path] = finals(updates)
    # structure guidance runs the whole ladder: 6 network steps, counted as such
    assert [u.index for u in updates if u.total] == [1, 2, 3, 4, 5, 6, 6] and updates[-1].total == 6
    assert "8 patches × 6 steps" in updates[-1].status
    params = parse_infotext(read_parameters(path))
    assert params["Composition"] == "training-layouts" and params["Compose"] == "structure"
    assert params["Layout seed"] == "3"
    x = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    assert x[:12].mean() > x[20:].mean() + 15  # the layout's bright top shows through the untrained model
    [plain] = finals(run_all(studio.generate(64, 32, steps=6, seed=3, composition="none")))
    assert "Composition" not in parse_infotext(read_parameters(plain))
    [designed] = finals(run_all(studio.generate(64, 32, steps=2, seed=3, composition="designed")))
    assert parse_infotext(read_parameters(designed))["Layout family"] in FAMILIES
    with pytest.raises(InputError, match="unknown composition"):
        run_all(studio.generate(64, 32, steps=2, seed=3, composition="spiral"))
    from patchdm_core.model.layout import LayoutModel, LayoutUNet
    from tests.model.test_layout_model import TINY

    both = Studio(
        tiny_pipe,
        History(tmp_path / "both"),
        Limits(max_pixels=128 * 128),
        layouts={"training-layouts": LayoutBank(thumbs), "layout-model": LayoutModel(LayoutUNet(TINY))},
    )
    [sampled] = finals(run_all(both.generate(64, 32, steps=6, seed=3, composition="layout-model")))
    assert parse_infotext(read_parameters(sampled))["Composition"] == "layout-model"
    bare = Studio(tiny_pipe, History(tmp_path / "bare"), Limits(max_pixels=128 * 128))
    with pytest.raises(InputError, match="ships no training layouts"):
        run_all(bare.generate(64, 32, steps=2, seed=3, composition="training-layouts"))
    with pytest.raises(InputError, match="ships no layout model"):
        run_all(bare.generate(64, 32, steps=2, seed=3, composition="layout-model"))
    [fine] = finals(run_all(bare.generate(64, 32, steps=2, seed=3, composition="designed")))  # needs no file
    assert fine.is_file()
