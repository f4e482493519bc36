"""Drive the real app (`app.py`) in Debian's Chromium: time Generate, then screenshot the tabs and the states
an artist meets (a batch, a queued job, a reload mid-job, a size too large, the History).

    .venv/bin/python scripts/app_screenshots.py --weights W.safetensors --out docs --threads 1

Prints JSON: the plan line's time estimate against the job as the browser saw it (click -> first preview,
click -> final PNG), for Generate and for each later job, and the detail Upscale added against a Lanczos
resize of the same picture (the finest Laplacian level's energy). Writes app-generate.jpg, app-batch.jpg,
app-waiting.jpg, app-reload.jpg, app-too-large.jpg, app-inpaint.jpg, app-outpaint.jpg, app-sketch.jpg,
app-upscale.jpg, app-upscale-crop.jpg, app-span.jpg and app-history.jpg (each under 300 KB) into --out.
Every job runs at the model's default sampler settings.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from patchdm_core.runtime.filters import laplacian_pyramid  # noqa: E402
from patchdm_core.runtime.images import from_pil  # noqa: E402

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


ABOUT = re.compile(r"about (\d+(?:\.\d)?) (s|min)(?: (\d+) min)? here|about (\d+) h(?: (\d+) min)? here")


def estimate(text: str) -> float | None:
    """The seconds a plan line's 'about 40 s here' / '1.5 min' / '1 h 20 min' says."""
    m = ABOUT.search(text)
    if not m:
        return None
    if m[4]:
        return int(m[4]) * 3600 + int(m[5] or 0) * 60
    return float(m[1]) * (60 if m[2] == "min" else 1)


def run_job(page, prefix: str, plan: str | None, ms: int) -> dict:
    """Run a tab's job to its PNG; the plan line's estimate against the time the browser saw."""
    predicted = estimate(page.locator(f"#{plan}").inner_text()) if plan else None
    before = page.locator(f"#{prefix}-status textarea").input_value()
    t0 = time.monotonic()
    page.locator(f"#{prefix}-run").click()
    page.wait_for_function(
        "([s, old]) => document.querySelector(s).value !== old", arg=[f"#{prefix}-status textarea", before]
    )
    expect(page.locator(f"#{prefix}-status textarea")).to_have_value(re.compile("^Done"), timeout=ms)
    page.wait_for_selector(f'#{prefix}-result img[src*="file="]')
    return {"job": prefix, "predicted_s": predicted, "took_s": round(time.monotonic() - t0, 1)}


def shoot(page, tmp: Path, out: Path, name: str, full_page: bool = True) -> None:
    page.screenshot(path=tmp / f"{name}.png", full_page=full_page)
    save_small(tmp / f"{name}.png", out / f"app-{name}.jpg")


def picture_of(page, prefix: str) -> Image.Image:
    """The PNG a tab's Result shows, fetched as the browser does."""
    src = page.locator(f'#{prefix}-result img[src*="file="]').get_attribute("src")
    return Image.open(io.BytesIO(page.request.get(src).body())).convert("RGB")


def upscale_crop(source: Image.Image, upscaled: Image.Image, out: Path) -> dict:
    """Lanczos and the app's Upscale of the same picture side by side (a 256-px crop, shown at 2x), and the
    energy of the finest Laplacian level of each (the detail at a pixel's scale)."""
    lanczos = source.resize(upscaled.size, Image.LANCZOS)
    energy = [float(laplacian_pyramid(from_pil(im))[0].pow(2).mean()) for im in (lanczos, upscaled)]
    w, h = upscaled.size
    box = (w // 2 - 128, h // 2 - 128, w // 2 + 128, h // 2 + 128)
    sheet = Image.new("RGB", (1044, 540), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (im, label) in enumerate(((lanczos, "Lanczos resize"), (upscaled, "Upscale (add detail, 0.6)"))):
        sheet.paste(im.crop(box).resize((512, 512), Image.NEAREST), (i * 532, 28))
        draw.text((i * 532 + 4, 6), label, fill="black")
    sheet.save(out / "app-upscale-crop.jpg", quality=88)
    return {"upscale_finest_level_vs_lanczos": round(energy[1] / energy[0], 2), "size": f"{w}x{h}"}


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
    ap.add_argument("--skip-queue", action="store_true", help="one browser: no queued-job or reload-mid-job shots")
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
            expect(page.locator("#gen-plan")).to_contain_text("here")
            predicted = estimate(page.locator("#gen-plan").inner_text())
            page.evaluate(TIMING)
            page.locator("#gen-run").click()
            expect(page.locator("#gen-status textarea")).to_have_value(re.compile("^Done"), timeout=ms)
            page.wait_for_selector('#gen-result img[src*="file="]')
            t = page.evaluate("window.__t")
            timing = {
                "size": "1024x512",
                "steps": args.steps or "model default",
                "threads": args.threads or "default",
                "weights": str(args.weights or "default"),
                "predicted_s": predicted,
                "click_to_first_preview_s": round((t["preview"] - t["click"]) / 1000, 1),
                "click_to_final_png_s": round((t["final"] - t["click"]) / 1000, 1),
                "status": page.locator("#gen-status textarea").input_value(),
            }
            print(json.dumps(timing), flush=True)
            if args.out is not None:
                args.out.mkdir(parents=True, exist_ok=True)
                jobs = tour(browser, page, url, tmp, args, ms)
                print(json.dumps({"jobs": jobs}), flush=True)
                print(json.dumps({"screenshots": sorted(str(f) for f in args.out.glob("app-*.jpg"))}))
            browser.close()
    finally:
        app.terminate()
        app.wait(timeout=30)
    return 0


def span_monitors(page, args: argparse.Namespace) -> None:
    """Two monitors picked from the screen list, then typed at 3/8 scale (a 2-core CPU paints them in about a
    minute), a bezel, the seed."""
    for screen in ("desktop · 1440p · 2560×1440", "desktop · 1080p · 1920×1080"):
        page.locator("#span-screen input").click()
        page.get_by_role("option", name=screen).click()
        page.locator("#span-add").click()
    page.locator("#span-monitors textarea, #span-monitors input").first.fill("960x540+0+0,720x405+960+68")
    set_number(page, "span-bezel", 24)
    set_number(page, "span-seed", args.seed)
    if args.steps:
        set_number(page, "span-steps", args.steps)


def tour(browser, page, url: str, tmp: Path, args: argparse.Namespace, ms: int) -> list[dict]:
    """Every tab's screenshot, and the states an artist meets; returns each job's estimate and time."""
    out, jobs = args.out, []
    steps = (lambda prefix: set_number(page, f"{prefix}-steps", args.steps)) if args.steps else (lambda prefix: None)
    shoot(page, tmp, out, "generate", full_page=False)
    page.locator("#gen-preset input").click()
    page.get_by_role("option", name="custom").click()
    set_number(page, "gen-width", 512)
    set_number(page, "gen-height", 256)
    set_number(page, "gen-batch", 2)
    jobs.append(run_job(page, "gen", "gen-plan", ms) | {"batch": 2})
    page.locator("#gen-batch").scroll_into_view_if_needed()
    shoot(page, tmp, out, "batch", full_page=False)
    set_number(page, "gen-batch", 1)
    set_number(page, "gen-width", 20000)
    set_number(page, "gen-height", 20000)
    page.locator("#gen-run").click()
    expect(page.locator("#gen-status textarea")).to_have_value(re.compile("^⚠"))
    shoot(page, tmp, out, "too-large", full_page=False)
    page.locator("#gen-fit").click()
    set_number(page, "gen-width", 1024)
    set_number(page, "gen-height", 512)
    if args.skip_queue:  # one browser: a 1024x512 picture for the editing tabs, then a span on its own
        set_number(page, "gen-seed", args.seed + 1)
        jobs.append(run_job(page, "gen", "gen-plan", ms))
        page.get_by_role("tab", name="Span").click()
        span_monitors(page, args)
        jobs.append(run_job(page, "span", "span-plan", ms))
        page.locator("#span-status").scroll_into_view_if_needed()
        shoot(page, tmp, out, "span")
        page.get_by_role("tab", name="Generate").click()
    else:
        # a queued job: this page paints, a second browser asks for a span and waits its turn
        other = browser.new_page(viewport={"width": 1360, "height": 900})
        other.set_default_timeout(ms)
        other.goto(url)
        expect(other.locator("#gen-plan")).to_contain_text("patches", timeout=60_000)
        other.get_by_role("tab", name="Span").click()
        span_monitors(other, args)
        set_number(page, "gen-seed", args.seed + 1)
        page.locator("#gen-run").click()
        expect(page.locator("#gen-status textarea")).to_have_value(re.compile(r"step 2/"), timeout=ms)
        other.locator("#span-run").click()
        expect(other.locator("#span-status textarea")).to_have_value(re.compile("^Waiting"), timeout=60_000)
        shoot(other, tmp, out, "waiting", full_page=False)
        page.reload()  # a reload mid-job: the job goes on and the page follows it
        after = re.compile("^(Still painting|While the page was away|Your last job)")  # (a short job may be done)
        expect(page.locator("#gen-status textarea")).to_have_value(after, timeout=ms)  # after the queue moves on
        shoot(page, tmp, out, "reload", full_page=False)
        expect(page.locator("#gen-status textarea")).to_have_value(re.compile("^(While|Your last)"), timeout=ms)
        expect(other.locator("#span-status textarea")).to_have_value(re.compile("^Done"), timeout=ms)
        other.locator("#span-status").scroll_into_view_if_needed()
        shoot(other, tmp, out, "span")
        other.close()
    page.locator("#gen-to-inpaint").click()
    page.locator("#inp-editor canvas").first.wait_for()
    time.sleep(3)
    paint(page)
    page.get_by_label("Only the masked area").check()
    steps("inp")
    jobs.append(run_job(page, "inp", "inp-plan", ms))
    page.locator("#inp-status").scroll_into_view_if_needed()
    shoot(page, tmp, out, "inpaint")
    page.get_by_role("tab", name="Generate").click()
    page.locator("#gen-to-outpaint").click()
    expect(page.locator("#out-size")).to_contain_text(re.compile(r"\d+×\d+ → \d+×\d+"), timeout=60_000)
    steps("out")
    jobs.append(run_job(page, "out", "out-plan", ms))
    shoot(page, tmp, out, "outpaint", full_page=False)
    page.get_by_role("tab", name="Sketch").click()
    sketch_layout(page)
    set_number(page, "sk-seed", args.seed)
    steps("sk")
    jobs.append(run_job(page, "sk", "sk-plan", ms))
    shoot(page, tmp, out, "sketch")
    source = picture_of(page, "sk")
    page.locator("#sk-to-upscale").click()
    expect(page.locator("#up-plan")).to_contain_text("1024×512 → 2048×1024", timeout=60_000)
    set_number(page, "up-seed", args.seed)
    steps("up")
    jobs.append(run_job(page, "up", "up-plan", ms))
    shoot(page, tmp, out, "upscale")
    jobs.append(upscale_crop(source, picture_of(page, "up"), out))
    page.get_by_role("tab", name="History").click()
    page.locator("#history button img").first.click()
    expect(page.locator("#hist-params textarea")).to_have_value(re.compile("Steps"))
    shoot(page, tmp, out, "history", full_page=False)
    return jobs


if __name__ == "__main__":
    sys.exit(main())
