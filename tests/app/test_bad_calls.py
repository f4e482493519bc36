"""The app's API against a client that sends anything: a clear sentence for every malformed call (never
Gradio's generic "upstream ... exception" or our "Something went wrong"), no crash, nothing saved;
Stop reaches queued jobs; a job over the cost cap is refused before it queues."""

from __future__ import annotations

import json
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import torch
from gradio_client import Client, handle_file
from PIL import Image

from app.shared.history import History
from app.shared.imaging import Limits
from app.shared.serving import ArrivalStamp
from app.studio import Studio
from patchdm_core import PatchDM
from tests.app.server import serve

GENERIC = ("Something went wrong", "upstream Gradio app", "has not enabled verbose error reporting", "[Errno")
GEN = [64, 32, 2, 1.5, 1, 1, "feature", False, None, None, None, None, "none", 0.25]  # width .. palette of /generate


@pytest.fixture(scope="module")
def studio(tiny_pipe: PatchDM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield Studio(
        tiny_pipe,
        History(tmp_path_factory.mktemp("outputs")),
        Limits(max_pixels=256 * 256, max_upload_bytes=200_000, max_job_cost=1.0),
    )
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def client(studio: Studio) -> Iterator[Client]:
    with serve(studio) as url:
        yield Client(url, verbose=False)


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("uploads")
    Image.new("RGB", (48, 32), (40, 90, 160)).save(d / "good.png")
    (d / "text.png").write_text("hello, not a picture")
    (d / "empty.png").write_bytes(b"")
    data = (d / "good.png").read_bytes()
    (d / "truncated.png").write_bytes(data[: len(data) // 2])
    (d / "page.html").write_text("<html><body>hi</body></html>")

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
    (d / "bomb.png").write_bytes(bomb)
    Image.new("RGB", (640, 480)).save(d / "big.png")  # over this server's 256x256 limit
    Image.new("L", (48, 32), 255).save(d / "mask-all.png")
    Image.new("RGBA", (20, 20)).save(d / "small-layer.png")
    stroke = Image.new("RGBA", (48, 32))
    stroke.paste((255, 46, 136, 255), (8, 8, 24, 24))
    stroke.save(d / "layer.png")
    return {p.stem: p for p in d.iterdir()}


def _with(base: list, index: int, value) -> list:
    out = list(base)
    out[index] = value
    return out


def _cases(f: dict[str, Path]) -> list[tuple[str, str, list]]:
    """(id, endpoint, data) of every malformed call."""
    good = handle_file(str(f["good"]))
    cases = []
    bad_numbers = {
        0: ["abc", -5, 0, 1e308, True, None],  # width
        1: ["1e308", -1, 70000],  # height
        2: ["many", 0, -3, 100000, 2.5],  # steps
        3: ["strong", -1, 1e9],  # guidance
        4: ["lucky", 1.5, -9, 2**64],  # seed
        5: [0, 99, "two"],  # batch
        11: ["x", -0.5, 7],  # eta
    }
    for index, values in bad_numbers.items():
        cases += [(f"generate arg{index}={v!r}", "/generate", _with(GEN, index, v)) for v in values]
    cases += [
        ("generate composition spiral", "/generate", _with(GEN, 12, "spiral")),
        ("generate style colours 2", "/generate", _with(GEN, 13, 2)),
        ("generate style colours text", "/generate", _with(GEN, 13, "vivid")),
        ("generate style colours nan", "/generate", _with(GEN, 13, float("nan"))),
        ("generate mode magic", "/generate", _with(GEN, 6, "magic")),
        ("generate mode number", "/generate", _with(GEN, 6, 3)),
        ("generate tileable yes", "/generate", _with(GEN, 7, "yes")),
        ("generate tileable 1", "/generate", _with(GEN, 7, 1)),
        ("generate sampler euler", "/generate", _with(GEN, 9, "euler")),
        ("generate grid wobbly", "/generate", _with(GEN, 10, "wobbly")),
        ("generate tileable naive", "/generate", _with(_with(GEN, 7, True), 6, "naive")),
        ("generate over the pixel limit", "/generate", _with(_with(GEN, 0, 4096), 1, 4096)),
        ("generate over the cost cap", "/generate", _with(_with(_with(GEN, 0, 256), 1, 256), 2, 200)),
    ]
    for name in ("text", "empty", "truncated", "page", "bomb", "big"):
        cases.append((f"generate style {name}", "/generate", _with(GEN, 8, handle_file(str(f[name])))))
    # a server path posted as a file: sent raw (gradio_client would upload the client's own copy of the file)
    for path in ("/etc/passwd", "../../etc/hosts", "/no/such/file.png"):
        server_file = {"path": path, "meta": {"_type": "gradio.FileData"}}
        cases.append((f"generate style server path {path}", "raw:/generate", _with(GEN, 8, server_file)))
    cases.append(("generate style not a file", "/generate", _with(GEN, 8, "just text")))
    # inpaint: editor, blur, method, only_masked, margin, steps, guidance, seed, sampler, grid, eta, strength, content
    editor = {"background": good, "layers": [handle_file(str(f["layer"]))], "composite": None}
    inp = [editor, 8, "fast", False, 64, 2, 1.5, 1, None, None, None, None, "fill"]
    small_layer = {"background": good, "layers": [handle_file(str(f["small-layer"]))], "composite": None}
    cases += [
        ("inpaint no picture", "/inpaint", _with(inp, 0, None)),
        ("inpaint no layers", "/inpaint", _with(inp, 0, {"background": good, "layers": [], "composite": None})),
        ("inpaint layer of another size", "/inpaint", _with(inp, 0, small_layer)),
        (
            "inpaint background text",
            "/inpaint",
            _with(inp, 0, {"background": handle_file(str(f["text"])), "layers": []}),
        ),  # noqa: E501
        (
            "inpaint background bomb",
            "/inpaint",
            _with(inp, 0, {"background": handle_file(str(f["bomb"])), "layers": []}),
        ),  # noqa: E501
        ("inpaint editor a string", "/inpaint", _with(inp, 0, "picture")),
        ("inpaint blur -1", "/inpaint", _with(inp, 1, -1)),
        ("inpaint blur text", "/inpaint", _with(inp, 1, "soft")),
        ("inpaint method magic", "/inpaint", _with(inp, 2, "magic")),
        ("inpaint method 300 letters", "/inpaint", _with(inp, 2, "m" * 300)),  # too long to be a file name
        ("inpaint only_masked maybe", "/inpaint", _with(inp, 3, "maybe")),
        ("inpaint margin 1e9", "/inpaint", _with(inp, 4, 1e9)),
        ("inpaint steps 0", "/inpaint", _with(inp, 5, 0)),
        ("inpaint seed text", "/inpaint", _with(inp, 7, "seed")),
    ]
    # outpaint: picture, top, right, bottom, left, feather, steps, guidance, seed, sampler, grid, eta
    out = [good, 0, 64, 0, 0, 16, 2, 1.5, 1, None, None, None]
    cases += [
        ("outpaint no picture", "/outpaint", _with(out, 0, None)),
        ("outpaint nothing to extend", "/outpaint", _with(out, 2, 0)),
        ("outpaint extend text", "/outpaint", _with(out, 2, "wide")),
        ("outpaint extend -64", "/outpaint", _with(out, 1, -64)),
        ("outpaint extend huge", "/outpaint", _with(out, 2, 1e12)),
        ("outpaint feather -1", "/outpaint", _with(out, 5, -1)),
        ("outpaint picture bomb", "/outpaint", _with(out, 0, handle_file(str(f["bomb"])))),
        ("outpaint picture truncated", "/outpaint", _with(out, 0, handle_file(str(f["truncated"])))),
        ("outpaint over the limit", "/outpaint", [good, 1024, 1024, 1024, 1024, 16, 1, 1.0, 1, None, None, None]),
        ("outpaint layout bomb", "/outpaint_layout", [handle_file(str(f["bomb"])), 0, 64, 0, 0, 16]),
        ("outpaint layout extend text", "/outpaint_layout", [good, 0, "x", 0, 0, 16]),
    ]
    # sketch: editor, width, height, strength, steps, guidance, seed, sampler, grid, eta
    sk = [{"background": good, "layers": [], "composite": None}, 64, 32, 0.5, 2, 1.5, 1, None, None, None]
    cases += [
        ("sketch empty", "/sketch", _with(sk, 0, None)),
        (
            "sketch fully transparent",
            "/sketch",
            _with(sk, 0, {"background": handle_file(str(f["small-layer"])), "layers": []}),
        ),  # noqa: E501
        ("sketch strength 2", "/sketch", _with(sk, 3, 2)),
        ("sketch strength text", "/sketch", _with(sk, 3, "half")),
        ("sketch width 0", "/sketch", _with(sk, 1, 0)),
        ("sketch over the limit", "/sketch", _with(_with(sk, 1, 2048), 2, 2048)),
        ("sketch background bomb", "/sketch", _with(sk, 0, {"background": handle_file(str(f["bomb"])), "layers": []})),  # noqa: E501
        ("sketch 150 layers", "/sketch", _with(sk, 0, {"background": good, "layers": [good] * 150, "composite": None})),
        (
            "inpaint 40 layers",
            "/inpaint",
            _with(inp, 0, {"background": good, "layers": [good] * 40, "composite": None}),
        ),
    ]
    # upscale: picture, factor, width, height, strength, steps, guidance, seed, sampler, grid, eta
    up = [good, "×2", None, None, 0.4, 2, 1.5, 1, None, None, None]
    cases += [
        ("upscale no picture", "/upscale", _with(up, 0, None)),
        ("upscale factor x3", "/upscale", _with(up, 1, "×3")),
        ("upscale size 0", "/upscale", _with(_with(_with(up, 1, "size"), 2, 0), 3, 0)),
        ("upscale x4 over the limit", "/upscale", _with(_with(up, 0, handle_file(str(f["big"]))), 1, "×4")),
        ("upscale strength -1", "/upscale", _with(up, 4, -1)),
        ("upscale picture html", "/upscale", _with(up, 0, handle_file(str(f["page"])))),
        ("upscale picture empty", "/upscale", _with(up, 0, handle_file(str(f["empty"])))),
    ]
    # span: monitors, bezel, steps, guidance, seed, sampler, grid, eta
    sp = ["48x32+0+0,32x16+48+8", 8, 2, 1.5, 1, None, None, None]
    cases += [
        ("span no monitors", "/span", _with(sp, 0, "")),
        ("span not a geometry", "/span", _with(sp, 0, "two screens")),
        ("span overlapping", "/span", _with(sp, 0, "48x32+0+0,32x16+40+8")),
        ("span bezel -4", "/span", _with(sp, 1, -4)),
        ("span bezel text", "/span", _with(sp, 1, "thin")),
        ("span over the limit", "/span", _with(sp, 0, "4k+0+0,4k+3840+0")),
        ("span monitors a number", "/span", _with(sp, 0, 5)),
        ("span monitors a long path", "/span", _with(sp, 0, "a/" * 3000)),
    ]
    return cases


def _raw_reply(client: Client, endpoint: str, data: list) -> str:
    """What the server answers a call posted as raw JSON, as a hostile client sends it: the status line, or
    "refused: ..." with the error's words."""
    url = f"{client.src}gradio_api/call{endpoint}"
    posted = httpx.post(url, json={"data": data}, timeout=30)
    if posted.status_code != 200:
        return f"refused ({posted.status_code}): {posted.json().get('detail', '')}"
    events = httpx.get(f"{url}/{posted.json()['event_id']}", timeout=120).text
    kind, _, payload = events.strip().rpartition("event: ")[2].partition("\ndata: ")
    if kind == "error":
        return f"refused: {payload}"
    result = json.loads(payload)
    return str(result[1] if endpoint == "/outpaint_layout" else result[2])


def _reply(client: Client, endpoint: str, data: list) -> str:
    if endpoint.startswith("raw:"):
        return _raw_reply(client, endpoint.removeprefix("raw:"), data)
    try:
        result = client.predict(*data, api_name=endpoint)
    except httpx.HTTPStatusError as exc:
        # a payload of the wrong JSON shape (text where a file belongs) fails Gradio's own schema check
        # before any of our code runs: HTTP 400, whose body says why (gradio_client shows only the status)
        raw = httpx.post(f"{client.src}gradio_api/call{endpoint}", json={"data": data}, timeout=30)
        return f"refused ({exc.response.status_code}): {raw.json().get('detail', '')}"
    except Exception as exc:  # noqa: BLE001 - every refusal counts, as long as it says what is wrong
        return f"refused: {exc}"
    if endpoint == "/outpaint_layout":
        return str(result[1])
    return str(result[2])


def test_every_malformed_call_gets_a_clear_answer_and_saves_nothing(
    client: Client, studio: Studio, uploads: dict[str, Path]
) -> None:
    cases = _cases(uploads)
    assert len(cases) >= 70 and len({c[0] for c in cases}) == len(cases)
    before = set(studio.history.items())
    failures = []
    for case_id, endpoint, data in cases:
        reply = _reply(client, endpoint, data)
        words = reply.removeprefix("⚠") if reply.startswith("⚠") else reply.partition(":")[2]
        clear = reply.startswith(("⚠", "refused")) and len(words.strip()) > 12
        if not clear or any(g in reply for g in GENERIC) or "'error': None" in reply:
            failures.append(f"{case_id}: {reply[:200]!r}")
    assert not failures, "\n".join(failures)
    assert set(studio.history.items()) == before  # nothing saved
    reply = _reply(client, "/generate", GEN)  # and the app still paints
    assert reply.startswith("Done: 64×32"), reply


def test_stop_cancels_a_queued_job_before_it_runs(client: Client, studio: Studio) -> None:
    before = set(studio.history.items())
    running = client.submit(*_with(_with(GEN, 2, 150), 3, 1.0), api_name="/generate")  # 0.3 MP-steps: under the cap
    deadline = time.monotonic() + 30
    while not any("step" in str(o[2]) for o in running.outputs() if len(o) > 2):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    queued = client.submit(*_with(GEN, 4, 777), api_name="/generate")  # waits behind the running job
    time.sleep(0.5)
    assert "cancelled 1 queued job" in client.predict(api_name="/stop")
    assert running.result(timeout=60)[2].startswith("Stopped at step")
    assert queued.result(timeout=60)[2] == "Stopped before it started: nothing was computed or saved."
    assert set(studio.history.items()) == before
    assert _reply(client, "/generate", GEN).startswith("Done")  # the next job runs


def test_twenty_stops_in_a_row_each_followed_by_a_finished_job(client: Client) -> None:
    for i in range(20):
        job = client.submit(*_with(_with(GEN, 2, 200), 4, 100 + i), api_name="/generate")
        deadline = time.monotonic() + 30
        while not any("step" in str(o[2]) for o in job.outputs() if len(o) > 2):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert client.predict(api_name="/stop").startswith("Stopping")
        assert job.result(timeout=60)[2].startswith("Stopped at step")
        assert _reply(client, "/generate", _with(GEN, 4, 200 + i)).startswith("Done"), i


def test_stop_sent_at_any_moment_after_a_submit_saves_nothing(
    client: Client, studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """50 rounds of submit, wait until the server has the job's request, wait a random moment more (0-300 ms:
    the job may be in its admission check, or queued, or running), Stop: no round saves a picture.

    The wait for the request matters: the client sends the job from a thread of its own, so a Stop sent
    a few milliseconds after `submit` can reach the server before the job does, and a Stop that comes
    first stops nothing (the job after it is a new one: CI saw that once, with a 4 ms pause)."""
    import random

    joins: list[float] = []
    stamp = ArrivalStamp.__call__

    async def noting(self: ArrivalStamp, scope: dict, receive: object, send: object) -> None:
        if scope.get("type") == "http" and scope.get("path", "").endswith("/queue/join"):
            joins.append(time.monotonic())
        await stamp(self, scope, receive, send)

    monkeypatch.setattr(ArrivalStamp, "__call__", noting)
    rng = random.Random(0)
    before = set(studio.history.items())
    for i in range(50):
        seen = len(joins)
        job = client.submit(*_with(_with(GEN, 2, 200), 4, 1000 + i), api_name="/generate")
        deadline = time.monotonic() + 30
        while len(joins) == seen:
            assert time.monotonic() < deadline, "the job's request never reached the server"
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.3))
        client.predict(api_name="/stop")
        status = job.result(timeout=120)[2]
        assert status.startswith("Stopped"), (i, status)
    assert set(studio.history.items()) == before
    assert _reply(client, "/generate", GEN).startswith("Done")  # and the next job runs


def test_pictures_are_counted_and_sized_before_any_is_decoded(client: Client, studio: Studio) -> None:
    """150 layers of one upload, and a picture sent inline as a data: URL 25x over --max-upload-mb: both
    refused before decoding; the server's memory does not grow with them."""
    import base64
    import json

    import httpx

    def rss() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * 4096

    good = handle_file(str(_uploads_dir(studio) / "layer.png"))
    before, base = set(studio.history.items()), rss()
    editor = {"background": good, "layers": [good] * 150, "composite": None}
    reply = _reply(client, "/sketch", [editor, 1024, 512, 0.5, 2, 1.5, 1, None, None, None])
    assert "151 pictures" in reply or "150 pictures" in reply, reply
    inline = "data:image/png;base64," + base64.b64encode(b"\x89PNG" + bytes(5 * 2**20)).decode()
    body = {
        "data": [
            {"url": inline, "meta": {"_type": "gradio.FileData"}},
            "×2",
            None,
            None,
            0.4,
            2,
            1.5,
            1,
            None,
            None,
            None,
        ],
        "fn_index": None,
        "session_hash": "inline",
        "event_data": None,
    }
    raw = httpx.post(
        f"{client.src}gradio_api/queue/join",
        content=json.dumps(body),
        timeout=30,
        headers={"content-type": "application/json"},
    )
    assert raw.status_code == 413 and "--max-upload-mb" in raw.text
    assert rss() - base < 100 * 2**20, (rss() - base) / 2**20
    assert set(studio.history.items()) == before


def _uploads_dir(studio: Studio) -> Path:
    folder = studio.history.root.parent / "count-uploads"
    folder.mkdir(exist_ok=True)
    Image.new("RGBA", (1024, 512), (255, 0, 0, 40)).save(folder / "layer.png")
    return folder


def test_a_burst_of_joins_admits_at_most_the_queue_size(client: Client, studio: Studio) -> None:
    """30 joins at once while the model is busy, against a queue of 8: at most 8 are admitted (they run once
    the model is free), every other one gets a sentence (Gradio's 'Queue is full' or ours)."""
    busy = client.submit(*_with(_with(GEN, 2, 200), 4, 1), api_name="/generate")  # under the cost cap of 1
    deadline = time.monotonic() + 30
    while not any("step" in str(o[2]) for o in busy.outputs() if len(o) > 2):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    jobs = [client.submit(*_with(GEN, 4, 3000 + i), api_name="/generate") for i in range(30)]
    admitted, refused = 0, 0
    for job in jobs:
        try:
            status = job.result(timeout=180)[2]
        except Exception as exc:  # noqa: BLE001 - a refused join
            assert "queue is full" in str(exc).lower(), exc
            refused += 1
            continue
        assert status.startswith("Done"), status
        admitted += 1
    print(f"burst of 30 joins, queue of 8: {admitted} admitted, {refused} refused")
    assert admitted <= 8 and admitted + refused == 30, (admitted, refused)
    assert busy.result(timeout=60)[2].startswith("Done")


def test_a_job_over_the_cost_cap_is_refused_before_it_queues(client: Client, studio: Studio) -> None:
    big = _with(_with(_with(GEN, 0, 256), 1, 256), 2, 200)  # 0.07 MP x 400 guided evaluations = 26 > 1
    with pytest.raises(Exception, match="megapixel-steps, over this server's cap of 1"):
        client.submit(*big, api_name="/generate").result(timeout=30)
    assert client.predict(api_name="/stop").startswith("Nothing is running")  # it never reached the queue
