"""Drive the real app (`app.py`) in Debian's Chromium: time Generate, then screenshot the tabs.

    .venv/bin/python scripts/app_screenshots.py --weights W.safetensors --out docs --threads 1

Prints JSON timings (click -> first preview, click -> final PNG, as the browser saw them) and
writes app-generate.jpg, app-inpaint.jpg, app-outpaint.jpg, app-sketch.jpg, app-upscale.jpg and app-span.jpg
(each under 300 KB) into --out. Every job runs at the model's default sampler settings.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/lib/chromium/chromium"
TIMING = """() => {
  const w = window.__t = {click: null, preview: null, final: null};
  document.querySelector('#gen-run').addEventListener('click', () => { w.click = performance.now(); }, true);
  new MutationObserver(() => {
    if (w.click === null) return;
    if (w.preview === null && document.querySelector('#gen-preview img[src*="file="]')) w.preview = performance.now();
    if (w.final === null && document.querySelector('#gen-result img[src*="file="]')) w.final = performance.now();
  }).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"the app did not answer at {url}")


def save_small(png: Path, out: Path, width: int = 1100, limit: int = 300_000) -> None:
    """Screenshot -> JPEG of at most `limit` bytes."""
    img = Image.open(png).convert("RGB")
    img = img.resize((width, round(img.height * width / img.width)), Image.LANCZOS)
    for quality in (85, 75, 65, 55):
        img.save(out, quality=quality, optimize=True)
        if out.stat().st_size <= limit:
            return


def set_number(page, elem_id: str, value: float) -> None:
    box = page.locator(f"#{elem_id} input[type=number]").first
    box.fill(str(value))
    box.press("Enter")


def paint(page) -> None:
    page.locator("#inp-editor button[aria-label='Brush']").click()
    box = page.locator("#inp-editor canvas").first.bounding_box()
    x, y = box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.45
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + box["width"] * 0.18, y + box["height"] * 0.15, steps=6)
    page.mouse.up()


def run_and_shoot(page, prefix: str, png: Path, jpg: Path, ms: int) -> None:
    """Run a tab's job, wait for its PNG, screenshot the whole page (the result sits below the fold)."""
    page.locator(f"#{prefix}-run").click()
    expect(page.locator(f"#{prefix}-status textarea")).to_have_value(re.compile("^Done"), timeout=ms)
    page.wait_for_selector(f'#{prefix}-result img[src*="file="]')
    page.screenshot(path=png, full_page=True)
    save_small(png, jpg)


def sketch_layout(page) -> None:
    """Block in a landscape on a sky-blue canvas: a dark green band, brown ground, a sun."""
    page.locator("#sk-fill").click()
    time.sleep(1.5)
    editor = page.locator("#sk-editor")
    editor.locator("button[aria-label='Brush']").click()
    box = editor.locator("canvas").first.bounding_box()

    def colour(rgb: str) -> None:
        editor.locator("button[aria-label='Color']").click()
        editor.locator(f"button.color[style*='rgb({rgb})']").click()
        editor.locator("button[aria-label='Color']").click()

    def stroke(y: float, x0: float, x1: float) -> None:
        page.mouse.move(box["x"] + box["width"] * x0, box["y"] + box["height"] * y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * x1, box["y"] + box["height"] * y, steps=12)
        page.mouse.up()

    def line(y: float) -> None:
        # a press must land on the picture (the editor's canvas is wider than it, and a press off the
        # picture draws nothing): start in the middle and drag out past each edge
        stroke(y, 0.5, -0.05)
        stroke(y, 0.5, 1.05)

    colour("31, 95, 42")  # forest
    for y in (0.5, 0.58, 0.66):
        line(y)
    colour("122, 82, 48")  # earth
    for y in (0.74, 0.82, 0.9, 0.98):
        line(y)
    colour("255, 210, 63")  # sun
    for y in (0.16, 0.22, 0.28):
        stroke(y, 0.72, 0.8)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None, help="folder for the screenshots (none: timing only)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--steps", type=int, default=None, help="steps for every job (default: the model's)")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=1800, help="seconds to wait for one job")
    args = ap.parse_args()
    port, outputs = free_port(), tempfile.mkdtemp(prefix="patchdm-shots-")
    cmd = [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--outputs", outputs]
    cmd += ["--threads", str(args.threads)] + (["--weights", str(args.weights)] if args.weights else [])
    app = subprocess.Popen(cmd, cwd=ROOT)
    tmp = Path(outputs)
    ms = int(args.timeout * 1000)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            page.set_default_timeout(ms)
            page.goto(url)
            expect(page.locator("#gen-plan")).to_contain_text("128 patches", timeout=60_000)  # 1024x512 preset
            if args.steps:
                set_number(page, "gen-steps", args.steps)
            set_number(page, "gen-seed", args.seed)
            page.evaluate(TIMING)
            page.locator("#gen-run").click()
            expect(page.locator("#gen-status textarea")).to_have_value(re.compile("^Done"), timeout=ms)
            page.wait_for_selector('#gen-result img[src*="file="]')
            t = page.evaluate("window.__t")
            status = page.locator("#gen-status textarea").input_value()
            timing = {
                "size": "1024x512",
                "steps": args.steps or "model default",
                "threads": args.threads or "default",
                "weights": str(args.weights or "default"),
                "click_to_first_preview_s": round((t["preview"] - t["click"]) / 1000, 1),
                "click_to_final_png_s": round((t["final"] - t["click"]) / 1000, 1),
                "status": status,
            }
            print(json.dumps(timing), flush=True)
            if args.out is not None:
                args.out.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=tmp / "generate.png")
                save_small(tmp / "generate.png", args.out / "app-generate.jpg")
                page.locator("#gen-to-inpaint").click()
                page.locator("#inp-editor canvas").first.wait_for()
                time.sleep(3)
                paint(page)
                page.get_by_label("Only the masked area").check()
                if args.steps:
                    set_number(page, "inp-steps", args.steps)
                page.locator("#inp-run").click()
                expect(page.locator("#inp-status textarea")).to_have_value(re.compile("^Done"), timeout=ms)
                page.locator("#inp-status").scroll_into_view_if_needed()
                page.screenshot(path=tmp / "inpaint.png", full_page=True)
                save_small(tmp / "inpaint.png", args.out / "app-inpaint.jpg")
                page.get_by_role("tab", name="Generate").click()
                page.locator("#gen-to-outpaint").click()
                expect(page.locator("#out-size")).to_contain_text("1024×512 → 1280×512", timeout=60_000)
                if args.steps:
                    set_number(page, "out-steps", args.steps)
                page.locator("#out-run").click()
                expect(page.locator("#out-status textarea")).to_have_value(re.compile("^Done"), timeout=ms)
                page.screenshot(path=tmp / "outpaint.png")
                save_small(tmp / "outpaint.png", args.out / "app-outpaint.jpg")
                page.get_by_role("tab", name="Sketch").click()
                sketch_layout(page)
                set_number(page, "sk-seed", args.seed)
                run_and_shoot(page, "sk", tmp / "sketch.png", args.out / "app-sketch.jpg", ms)
                page.locator("#sk-to-upscale").click()
                expect(page.locator("#up-plan")).to_contain_text("1024×512 → 2048×1024", timeout=60_000)
                set_number(page, "up-seed", args.seed)
                run_and_shoot(page, "up", tmp / "upscale.png", args.out / "app-upscale.jpg", ms)
                page.get_by_role("tab", name="Span").click()
                for screen in ("desktop · 1440p · 2560×1440", "desktop · 1080p · 1920×1080"):
                    page.locator("#span-screen input").click()
                    page.get_by_role("option", name=screen).click()
                    page.locator("#span-add").click()
                # the same two screens at 3/8 scale, so that the 2-core CPU paints them in about a minute
                page.locator("#span-monitors textarea, #span-monitors input").first.fill("960x540+0+0,720x405+960+68")
                set_number(page, "span-bezel", 24)
                set_number(page, "span-seed", args.seed)
                run_and_shoot(page, "span", tmp / "span.png", args.out / "app-span.jpg", ms)
                print(json.dumps({"screenshots": sorted(str(f) for f in args.out.glob("app-*.jpg"))}))
            browser.close()
    finally:
        app.terminate()
        app.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
