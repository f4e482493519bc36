"""The studio in a real browser: Playwright driving Debian's Chromium (never a downloaded one).

With $PATCHDM_SCREENSHOTS set, each test saves screenshots there (a full-page screenshot takes seconds of
software rendering, so the suite takes none unless asked).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from app.shared.history import History
from app.shared.imaging import Limits
from app.studio import Studio
from patchdm_core import PatchDM
from tests.app.server import serve

pytestmark = pytest.mark.browser
WAIT = 60_000  # ms

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=30_000)  # a CPU shared with training makes every round trip slower

# Records every src the live preview shows, and how many it had shown when the final PNG arrived.
WATCH_PREVIEWS = """prefix => {
  const w = window.__watch = {previews: [], finalAt: null};
  const look = () => {
    const p = document.querySelector(`#${prefix}-preview img[src*="file="]`);
    if (p && w.finalAt === null && w.previews[w.previews.length - 1] !== p.src) w.previews.push(p.src);
    const r = document.querySelector(`#${prefix}-result img[src*="file="]`);
    if (r && w.finalAt === null) w.finalAt = w.previews.length;
  };
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                     attributeFilter: ["src"]});
}"""


class Shots:
    """page.screenshot into $PATCHDM_SCREENSHOTS, or nothing when it is not set."""

    def __init__(self, folder: str | None) -> None:
        self.folder = Path(folder) if folder else None
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            print(f"\nscreenshots: {self.folder}")

    def __call__(self, page, name: str, full_page: bool = False) -> None:
        if self.folder is not None:
            page.screenshot(path=self.folder / name, full_page=full_page)


@pytest.fixture(scope="module")
def shots() -> Shots:
    return Shots(os.environ.get("PATCHDM_SCREENSHOTS"))


@pytest.fixture(scope="module")
def url(tiny_pipe: PatchDM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the tiny model is fastest on one thread (and a CPU shared with training)
    studio = Studio(
        tiny_pipe,
        History(tmp_path_factory.mktemp("outputs")),
        Limits(max_pixels=1024 * 1024),
        banner="untrained tiny test model",
    )
    with serve(studio) as u:
        yield u
    torch.set_num_threads(threads)


@pytest.fixture
def page(browser, url: str) -> Iterator:
    context = browser.new_context(viewport={"width": 1360, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(WAIT)
    pg.goto(url)
    expect(pg.locator("#gen-plan")).to_contain_text("2048 patches × 4 steps")  # page loaded, load events done
    yield pg
    context.close()


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pictures")
    y = np.linspace(0, 1, 96)[:, None, None]
    sky = (np.array([40, 90, 170]) * (1 - y) + np.array([230, 180, 120]) * y).astype(np.uint8)
    img = Image.fromarray(np.broadcast_to(sky, (96, 160, 3)).copy())
    img.save(folder / "landscape.png")
    return {"landscape": folder / "landscape.png"}


def set_number(page, elem_id: str, value: int | float) -> None:
    """Type into a gr.Number or a gr.Slider's number box and commit it."""
    box = page.locator(f"#{elem_id} input[type=number]").first
    box.fill(str(value))
    box.press("Enter")
    box.blur()


def natural_size(page, selector: str) -> tuple[int, int]:
    return tuple(page.locator(selector).evaluate("img => [img.naturalWidth, img.naturalHeight]"))


def status(page, prefix: str):
    return page.locator(f"#{prefix}-status textarea")


def upload_to_editor(page, picture: Path) -> None:
    """Upload into the ImageEditor and wait until it has laid the picture out: its zoom leaves the
    empty canvas's 50 % (a job started earlier gets no picture or the default 800x800 canvas).
    The editor sometimes drops an upload that arrives while it is still initialising: upload again."""
    editor = page.locator("#inp-editor")
    expect(editor.locator("canvas").first).to_be_visible()
    for attempt in range(3):
        editor.locator("input[type=file]").first.set_input_files(str(picture))
        try:
            expect(editor).not_to_contain_text(re.compile(r"\b50%"), timeout=10_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    time.sleep(0.5)


def run_inpaint(page, done: str) -> None:
    page.locator("#inp-run").click()
    expect(status(page, "inp")).to_have_value(re.compile(done))


def test_generate_shows_changing_previews_then_the_png(page, shots: Shots) -> None:
    expect(page.locator("#banner")).to_contain_text("untrained tiny test model")
    page.locator("#gen-preset input").click()
    page.get_by_role("option", name="custom").click()
    set_number(page, "gen-width", 128)
    set_number(page, "gen-height", 96)
    set_number(page, "gen-steps", 30)
    set_number(page, "gen-seed", 1234)
    expect(page.locator("#gen-plan")).to_contain_text("48 patches × 30 steps")
    page.evaluate(WATCH_PREVIEWS, "gen")
    page.locator("#gen-run").click()
    expect(status(page, "gen")).to_have_value(re.compile(r"step \d+/30 .* elapsed · ETA"))
    shots(page, "generate-running.png")
    expect(status(page, "gen")).to_have_value(re.compile(r"^Done: 128×96, seed 1234"))
    page.wait_for_selector('#gen-result img[src*="file="]')
    watch = page.evaluate("window.__watch")
    assert watch["finalAt"] is not None and watch["finalAt"] >= 2, watch
    assert natural_size(page, "#gen-result img") == (128, 96)
    expect(page.locator("#gen-bar .pdm-bar > div")).to_have_attribute("style", "width:100.0%")
    expect(page.locator("#gen-seed-used input")).to_have_value("1234")
    shots(page, "generate.png", full_page=True)


def test_paint_a_stroke_and_inpaint(page, shots: Shots, pictures: dict[str, Path]) -> None:
    page.get_by_role("tab", name="Inpaint").click()
    upload_to_editor(page, pictures["landscape"])
    canvas = page.locator("#inp-editor canvas").first
    page.locator("#inp-editor button[aria-label='Brush']").click()
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.5
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + box["width"] * 0.3, y, steps=6)
    page.mouse.up()
    set_number(page, "inp-steps", 8)
    set_number(page, "inp-seed", 7)
    shots(page, "inpaint-painted.png")
    t0 = time.perf_counter()
    run_inpaint(page, r"^Done: inpaint")
    page.wait_for_selector('#inp-result img[src*="file="]')
    print(f"inpaint click -> result: {time.perf_counter() - t0:.1f} s")
    assert natural_size(page, "#inp-result img") == (160, 96)
    shots(page, "inpaint.png", full_page=True)


def test_empty_mask_is_explained_and_the_app_keeps_working(page, pictures: dict[str, Path]) -> None:
    page.get_by_role("tab", name="Inpaint").click()
    upload_to_editor(page, pictures["landscape"])
    run_inpaint(page, "^⚠ the mask is empty: paint over the area to repaint first$")
    expect(page.get_by_text("the mask is empty").first).to_be_visible()  # the warning toast


def test_extend_to_the_right_in_outpaint(page, shots: Shots, pictures: dict[str, Path]) -> None:
    page.get_by_role("tab", name="Outpaint").click()
    page.locator("#out-picture input[type=file]").first.set_input_files(str(pictures["landscape"]))
    expect(page.locator("#out-size")).to_contain_text("160×96 → 416×96")  # right: 256 px by default
    page.wait_for_selector('#out-layout img[src*="file="]')
    set_number(page, "out-steps", 8)
    page.locator("#out-run").click()
    expect(status(page, "out")).to_have_value(re.compile(r"^Done: outpaint"))
    page.wait_for_selector('#out-result img[src*="file="]')
    assert natural_size(page, "#out-result img") == (416, 96)
    shots(page, "outpaint.png", full_page=True)


def test_stop_during_a_run_keeps_the_preview_and_the_app_recovers(page, shots: Shots) -> None:
    page.locator("#gen-preset input").click()
    page.get_by_role("option", name="custom").click()
    set_number(page, "gen-width", 256)
    set_number(page, "gen-height", 256)
    set_number(page, "gen-steps", 200)
    page.locator("#gen-run").click()
    expect(status(page, "gen")).to_have_value(re.compile(r"step ([3-9]|\d\d+)/200"))
    expect(page.locator("#gen-bar .pdm-bar > div")).not_to_have_attribute("style", "width:0.0%")
    page.locator("#gen-stop").click()
    expect(status(page, "gen")).to_have_value(re.compile(r"^Stopped at step \d+/200"))
    assert page.locator('#gen-preview img[src*="file="]').count() == 1
    assert page.locator('#gen-result img[src*="file="]').count() == 0
    shots(page, "stopped.png", full_page=True)
    set_number(page, "gen-steps", 4)
    page.locator("#gen-run").click()
    expect(status(page, "gen")).to_have_value(re.compile(r"^Done: 256×256"))
    page.wait_for_selector('#gen-result img[src*="file="]')


def test_history_sends_a_picture_to_outpaint(page, shots: Shots) -> None:
    set_number(page, "gen-width", 64)
    set_number(page, "gen-height", 48)
    page.get_by_text("Advanced").first.click()  # the sampler choices live in Generate's Advanced section
    page.locator("#gen-sampler").get_by_label("DPM++ 2M").check()
    page.locator("#gen-grid").get_by_label("random").check()
    page.locator("#gen-run").click()
    expect(status(page, "gen")).to_have_value(re.compile(r"^Done: 64×48"))
    page.get_by_role("tab", name="History").click()
    thumbs = page.locator("#history button img")
    expect(thumbs.first).to_be_visible()
    thumbs.first.click()
    params = re.compile(r"^Steps: \d+, Sampler: DPM\+\+ 2M, .*Grid: random, Seed: \d+")
    expect(page.locator("#hist-params textarea")).to_have_value(params)
    shots(page, "history.png", full_page=True)
    page.locator("#hist-to-outpaint").click()
    expect(page.get_by_role("tab", name="Outpaint")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#out-size")).to_contain_text("64×48 → 320×48")
    page.get_by_role("tab", name="Generate").click()
    page.locator("#gen-to-inpaint").click()
    expect(page.get_by_role("tab", name="Inpaint")).to_have_attribute("aria-selected", "true")
    run_inpaint(page, "the mask is empty")  # the picture arrived: only the mask is missing


def stroke_across(page, editor: str, y_frac: float) -> None:
    """Drag the brush across the middle 60 % of the editor's canvas at height y_frac."""
    box = page.locator(f"#{editor} canvas").first.bounding_box()
    x, y = box["x"] + box["width"] * 0.2, box["y"] + box["height"] * y_frac
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + box["width"] * 0.6, y, steps=8)
    page.mouse.up()


def test_sketch_in_two_colours_then_upscale_it_from_history(page, shots: Shots) -> None:
    page.get_by_role("tab", name="Sketch").click()
    editor = page.locator("#sk-editor")
    expect(editor.locator("canvas").first).to_be_visible()
    page.locator("#sk-fill").click()  # a new canvas filled with the picked colour (sky blue)
    time.sleep(1)
    editor.locator("button[aria-label='Brush']").click()
    editor.locator("button[aria-label='Color']").click()
    editor.locator("button.color[style*='rgb(255, 210, 63)']").click()  # sun yellow
    editor.locator("button[aria-label='Color']").click()
    stroke_across(page, "sk-editor", 0.3)
    editor.locator("button[aria-label='Color']").click()
    editor.locator("button.color[style*='rgb(31, 95, 42)']").click()  # forest green
    editor.locator("button[aria-label='Color']").click()
    stroke_across(page, "sk-editor", 0.8)
    page.locator("#sk-preset input").click()
    page.get_by_role("option", name="custom").click()
    set_number(page, "sk-width", 128)
    set_number(page, "sk-height", 64)
    set_number(page, "sk-steps", 4)
    shots(page, "sketch-painted.png")
    page.locator("#sk-run").click()
    expect(status(page, "sk")).to_have_value(re.compile(r"^Done: sketch"))
    page.wait_for_selector('#sk-result img[src*="file="]')
    assert natural_size(page, "#sk-result img") == (128, 64)
    shots(page, "sketch.png", full_page=True)
    page.get_by_role("tab", name="History").click()
    page.locator("#history button img").first.click()
    params = page.locator("#hist-params textarea")
    expect(params).to_have_value(
        re.compile(r"Mode: sketch, .*Compose: structure, .*Size: 128x64, Source: sketch \d+x\d+")
    )
    page.locator("#hist-to-upscale").click()
    expect(page.get_by_role("tab", name="Upscale")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#up-plan")).to_contain_text("128×64 → 256×128")
    set_number(page, "up-steps", 4)
    page.locator("#up-run").click()
    expect(status(page, "up")).to_have_value(re.compile(r"^Done: upscale"))
    page.wait_for_selector('#up-result img[src*="file="]')
    assert natural_size(page, "#up-result img") == (256, 128)
    shots(page, "upscale.png", full_page=True)


def test_span_adds_two_monitors_paints_and_downloads_both_files(page, shots: Shots, tmp_path: Path) -> None:
    """Two screens from the list, placed side by side; then a small geometry typed in (the tiny model paints
    it in seconds), a bezel, Paint: the ZIP holds one file per monitor, each an exact crop of the whole."""
    import io
    import zipfile

    page.get_by_role("tab", name="Span").click()
    for screen in ("phone · phone-1080 · 1080×2400", "desktop · 1080p · 1920×1080"):
        page.locator("#span-screen input").click()
        page.get_by_role("option", name=screen).click()
        page.locator("#span-add").click()
    monitors = page.locator("#span-monitors textarea, #span-monitors input").first
    expect(monitors).to_have_value("1080x2400+0+0,1920x1080+1080+0")
    expect(page.locator("#span-plan")).to_contain_text("over the limit")  # 3000x2400 > this server's 1 MP
    monitors.fill("64x48+0+0,48x32+64+16")
    monitors.press("Enter")
    set_number(page, "span-bezel", 16)
    expect(page.locator("#span-plan")).to_contain_text("2 monitors · canvas 128×48")
    expect(page.locator("#span-layout img")).to_be_visible()
    set_number(page, "span-steps", 3)
    page.locator("#span-run").click()
    page.wait_for_selector('#span-result img[src*="file="]')
    expect(status(page, "span")).to_have_value(re.compile(r"Done: span · 2 monitors"))
    shots(page, "span.png", full_page=True)
    link = page.locator("#span-zip a").first
    with page.expect_download() as download:
        link.click()
    bundle = zipfile.ZipFile(download.value.path())
    assert bundle.namelist() == ["monitor1.png", "monitor2.png"]
    whole_src = page.locator("#span-result img").get_attribute("src")
    whole = np.asarray(Image.open(io.BytesIO(page.request.get(whole_src).body())).convert("RGB"))
    first, second = (np.asarray(Image.open(bundle.open(n)).convert("RGB")) for n in bundle.namelist())
    assert whole.shape[:2] == (48, 128)
    assert np.array_equal(first, whole[0:48, 0:64]) and np.array_equal(second, whole[16:48, 80:128])
