"""The app's API through gradio_client against a server launched here (tiny model, 16-px patches)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from gradio_client import Client, handle_file
from gradio_client.utils import QueueError
from PIL import Image

from app.shared.history import History
from app.shared.imaging import Limits
from app.studio import Studio
from patchdm_core import PatchDM
from patchdm_core.runtime.images import parse_infotext
from tests.app.server import serve

LONG = dict(width=128, height=128, steps=200)  # long enough to interrupt (~0.1 s per step on one thread)


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """The tiny model runs fastest on one thread, and far faster when another job shares the CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def studio(tiny_pipe: PatchDM, tmp_path_factory: pytest.TempPathFactory) -> Studio:
    root = tmp_path_factory.mktemp("outputs")
    return Studio(tiny_pipe, History(root), Limits(max_pixels=256 * 256, max_upload_bytes=2**20))


@pytest.fixture(scope="module")
def url(studio: Studio) -> Iterator[str]:
    with serve(studio) as u:
        yield u


@pytest.fixture
def client(url: str) -> Client:
    return Client(url, verbose=False)


def generate(client: Client, width=64, height=32, steps=6, seed=5, batch=1, mode="feature", tileable=False, style=None):
    return client.submit(width, height, steps, 1.5, seed, batch, mode, tileable, style, api_name="/generate")


def wait_for_outputs(job, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(job.outputs()) < n:
        assert not job.done(), f"the job ended early: {job.status()}"
        assert time.monotonic() < deadline, f"no {n} outputs after {timeout} s: {job.status()}"
        time.sleep(0.05)


def is_skip(value) -> bool:
    return isinstance(value, dict) and value.get("__type__") == "update"


def test_endpoints(client: Client) -> None:
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/generate", "/inpaint", "/outpaint", "/outpaint_layout", "/stop"} <= names


def test_generate_streams_previews_and_the_png_keeps_its_parameters(client: Client, studio: Studio) -> None:
    job = generate(client, seed=5)
    preview, result, status, seed, gallery, bar = job.result(timeout=120)
    previews = [o[0] for o in job.outputs() if not is_skip(o[0])]
    assert len(previews) >= 2 and all(Path(p).suffix in (".jpeg", ".jpg") for p in previews)
    assert status.startswith("Done: 64×32, seed 5") and seed == 5
    downloaded = Image.open(result)
    assert downloaded.format == "PNG" and downloaded.size == (64, 32)
    params = parse_infotext(downloaded.text["parameters"])
    assert params["Seed"] == "5" and params["Size"] == "64x32" and params["Sampler"] == "DDIM"
    assert Path(result).name in {Path(g["image"]).name for g in gallery}
    assert (studio.history.root / Path(result).name).is_file()
    assert 'style="width:100.0%"' in bar and "6/6 steps" in bar


def test_inpaint_with_an_uploaded_mask(client: Client, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    bg = tmp_path / "bg.png"
    Image.fromarray(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)).save(bg)
    mask = tmp_path / "mask.png"
    m = Image.new("L", (48, 32), 0)
    m.paste(255, (16, 0, 32, 16))  # white = repaint
    m.save(mask)
    editor = {"background": handle_file(str(bg)), "layers": [handle_file(str(mask))], "composite": handle_file(str(bg))}
    _, result, status, seed, _, _ = client.predict(editor, 0, "fast", False, 64, 4, 1.5, 9, api_name="/inpaint")
    assert status.startswith("Done: inpaint") and seed == 9
    out = np.asarray(Image.open(result))
    assert out.shape == (32, 48, 3) and np.array_equal(out[20:], np.asarray(Image.open(bg))[20:])
    params = parse_infotext(Image.open(result).text["parameters"])
    assert params["Mode"] == "inpaint" and params["Strength"] == "0.7"  # the default when a client omits it
    named = {"strength": 0.5, "content": "original", "api_name": "/inpaint"}
    _, result, status, _, _, _ = client.predict(editor, 0, "fast", False, 64, 4, 1.5, 9, **named)
    assert "× 2 of 4 steps" in status and parse_infotext(Image.open(result).text["parameters"])["Content"] == "original"


def test_outpaint_and_its_layout_preview(client: Client, tmp_path: Path) -> None:
    src = tmp_path / "src.png"
    Image.new("RGB", (48, 32), (40, 90, 160)).save(src)
    sketch, text = client.predict(handle_file(str(src)), 0, 64, 0, 0, 16, api_name="/outpaint_layout")
    assert Image.open(sketch).size == (112, 32) and text.startswith("48×32 → 112×32")
    _, result, status, _, _, _ = client.predict(handle_file(str(src)), 0, 64, 0, 0, 16, 4, 1.5, 1, api_name="/outpaint")
    assert status.startswith("Done: outpaint") and Image.open(result).size == (112, 32)


def test_sketch_and_upscale_endpoints(client: Client, tmp_path: Path) -> None:
    layer = np.zeros((32, 64, 4), np.uint8)
    layer[:16] = (90, 160, 230, 255)  # a sky over a transparent (free) lower half
    sky = tmp_path / "sky.png"
    Image.fromarray(layer, "RGBA").save(sky)
    editor = {"background": None, "layers": [handle_file(str(sky))], "composite": None}
    _, result, status, seed, _, _ = client.predict(editor, 96, 48, 0.5, 4, 1.5, 3, api_name="/sketch")
    assert status.startswith("Done: sketch") and seed == 3 and Image.open(result).size == (96, 48)
    params = parse_infotext(Image.open(result).text["parameters"])  # a client that names no way: structure
    assert params["Compose"] == "structure" and params["Source"] == "sketch 64x32"
    _, result, *_ = client.predict(editor, 96, 48, 0.5, 4, 1.5, 3, how="img2img", api_name="/sketch")
    params = parse_infotext(Image.open(result).text["parameters"])
    assert params["Compose"] == "img2img" and params["Strength"] == "0.5"
    _, result, status, _, _, _ = client.predict(
        handle_file(result), "×2", None, None, 0.4, 4, 1.5, 1, api_name="/upscale"
    )
    assert status.startswith("Done: upscale") and Image.open(result).size == (192, 96)
    _, result, status, _, _, _ = client.predict(editor, 96, 48, 7, 4, 1.5, 3, api_name="/sketch")
    assert status == "⚠ Strength must be a number between 0 and 1, got 7" and is_skip(result)
    _, result, status, _, _, _ = client.predict(None, 96, 48, 0.5, 4, 1.5, 3, api_name="/sketch")
    assert status.startswith("⚠ the sketch is empty") and is_skip(result)


def test_cancel_mid_run_then_run_again(client: Client, studio: Studio) -> None:
    before = set(studio.history.items())
    job = generate(client, **LONG, seed=424242)
    wait_for_outputs(job, 3)
    job.cancel()
    deadline = time.monotonic() + 30
    while not job.done():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    _, result, status, *_ = generate(client, seed=7).result(timeout=120)
    assert status.startswith("Done") and Image.open(result).size == (64, 32)
    time.sleep(0.5)
    assert not any("-424242-" in p.name for p in set(studio.history.items()) - before)


def test_stop_endpoint_stops_within_a_step_and_keeps_the_preview(client: Client, studio: Studio) -> None:
    before = set(studio.history.items())
    job = generate(client, **LONG, seed=31337)
    wait_for_outputs(job, 3)
    assert client.predict(api_name="/stop") == "Stopping after the current step…"
    preview, result, status, *_ = job.result(timeout=60)
    assert status.startswith("Stopped at step") and is_skip(preview) and is_skip(result)
    assert int(status.split("step ")[1].split("/")[0]) < LONG["steps"]
    assert set(studio.history.items()) == before
    assert client.predict(api_name="/stop").startswith("Nothing is running")


def test_bad_input_gives_a_message_and_writes_nothing(client: Client, studio: Studio, tmp_path: Path) -> None:
    before = set(studio.history.items())
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    out = client.predict(handle_file(str(corrupt)), 0, 64, 0, 0, 16, 4, 1.5, 1, api_name="/outpaint")
    assert out[2].startswith("⚠ could not read the picture") and is_skip(out[1])
    with pytest.raises(Exception, match="over the limit.*the largest canvas of this shape that fits is 256×256"):
        generate(client, width=1024, height=1024).result(timeout=60)  # refused before it queues
    bg = tmp_path / "bg.png"
    Image.new("RGB", (48, 32)).save(bg)
    empty = tmp_path / "empty.png"
    Image.new("RGBA", (48, 32), (0, 0, 0, 0)).save(empty)
    editor = {"background": handle_file(str(bg)), "layers": [handle_file(str(empty))], "composite": None}
    out = client.predict(editor, 8, "fast", False, 64, 4, 1.5, 1, api_name="/inpaint")
    assert out[2] == "⚠ the mask is empty: paint over the area to repaint first"
    assert set(studio.history.items()) == before
    assert generate(client).result(timeout=120)[2].startswith("Done"), "the app keeps working"


def test_full_queue_says_busy(tiny_pipe: PatchDM, tmp_path: Path) -> None:
    studio = Studio(tiny_pipe, History(tmp_path), Limits(max_pixels=256 * 256))
    with serve(studio, queue_size=1) as url:
        users = [Client(url, verbose=False) for _ in range(3)]
        running = generate(users[0], **LONG)
        wait_for_outputs(running, 2)
        waiting = generate(users[1], **LONG)
        time.sleep(0.5)
        with pytest.raises(QueueError, match="Queue is full! Please try again"):
            generate(users[2]).result(timeout=30)
        waiting.cancel()
        users[0].predict(api_name="/stop")
        assert running.result(timeout=60)[2].startswith("Stopped at step")


def test_only_the_pictures_history_lists_are_served(tiny_pipe, tmp_path: Path) -> None:
    """Dotfiles, other files, symlinks (to a secret, or dangling) in the outputs folder: 404; listed
    pictures: 200; and a dangling symlink does not break the next job."""
    import os

    import httpx

    outputs = tmp_path / "outputs"
    history = History(outputs)
    secret = tmp_path / "secret.txt"
    secret.write_text("private key")
    (outputs / ".hidden.png").write_bytes(b"x")
    (outputs / "notes.txt").write_text("x")
    os.symlink(secret, outputs / "link.png")
    os.symlink(tmp_path / "gone.png", outputs / "dangling.png")
    studio = Studio(tiny_pipe, history, Limits(max_pixels=256 * 256))
    with serve(studio) as url:
        client = Client(url, verbose=False)
        _, result, status, *_ = generate(client, seed=3).result(timeout=120)
        assert status.startswith("Done: 64×32"), status
        listed = history.items()[0]
        assert httpx.get(f"{url}gradio_api/file={listed}").status_code == 200
        for name in (".hidden.png", "notes.txt", "link.png", "dangling.png", "../secret.txt"):
            reply = httpx.get(f"{url}gradio_api/file={outputs / name}")
            assert reply.status_code in (403, 404) and "private key" not in reply.text, name
