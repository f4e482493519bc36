"""The bridge between handlers (plain generators of Updates) and Gradio: outputs, toasts, progress, Stop.

Every job streams into the same six outputs: (preview, result, status, seed used, history
gallery, progress bar). Problems with the input become a warning toast plus a status line; anything unexpected
is logged on the server and reported in one sentence. Never a traceback in the UI.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image, ImageColor

from .cost import JobCost, over_cap
from .handlers import Jobs, Studio, Update
from .history import read_parameters
from .imaging import InputError, request_pictures, size_input
from .span import add_monitor


def sketch_canvas(width: float | None, height: float | None, longest: int = 1024) -> tuple[int, int]:
    """A sketch canvas with the output's aspect ratio and its longer side `longest` px (the output
    size itself can be 4K; the sketch only carries the layout)."""
    try:
        w, h = size_input(width, height)
    except InputError:
        w, h = 1024, 512
    scale = longest / max(w, h)
    return max(16, round(w * scale)), max(16, round(h * scale))


log = logging.getLogger("patchdm.app")


def session_key(request: gr.Request | None) -> str:
    """The browser session (or API client) a job belongs to."""
    return (getattr(request, "session_hash", None) or "anonymous") if request is not None else "anonymous"


def request_token(request: gr.Request | None) -> object | None:
    """What identifies one queued job from its admission to its start: the HTTP request it came with
    (Gradio hands the validator and the job the same object)."""
    return getattr(request, "request", None) if request is not None else None


def arrival(request: gr.Request | None) -> float | None:
    """When the job's request reached the server (serving.ArrivalStamp), or None when it was not stamped."""
    state = getattr(getattr(request, "request", None), "state", None)
    return getattr(state, "arrived", None)


def progress_bar(index: int, total: int) -> str:
    """A thin HTML progress bar (Gradio draws no bar while a generator streams its outputs)."""
    pct = 100.0 * index / total if total else 0.0
    return f'<div class="pdm-bar" title="{index}/{total} steps"><div style="width:{pct:.1f}%"></div></div>'


def stream(
    studio: Studio, updates: Callable[[], Iterator[Update]], progress: gr.Progress | None, download: bool = False
) -> Iterator[tuple[Any, ...]]:
    """Run a handler and turn its Updates into output tuples (gr.skip() = unchanged):
    (preview, result, status, seed used, history gallery, progress bar[, download])."""
    try:
        for u in updates():
            if u.note:
                gr.Info(u.note)
            if progress is not None and u.total:
                progress((u.index, u.total), desc="denoising", unit="steps")
            outputs = (
                u.preview if u.preview is not None else gr.skip(),
                str(u.final) if u.final is not None else gr.skip(),
                u.status,
                u.seed if u.seed is not None else gr.skip(),
                studio.history.gallery() if u.history_changed else gr.skip(),
                progress_bar(u.index, u.total) if u.total else gr.skip(),
            )
            yield outputs + ((str(u.download) if u.download else gr.skip(),) if download else ())
    except InputError as exc:
        gr.Warning(str(exc))
        yield status_only(f"⚠ {exc}", download)
    except Exception as exc:  # noqa: BLE001 - report, keep the app alive
        log.exception("job failed")
        message = f"Something went wrong ({type(exc).__name__}: {exc}). The app is ready for the next job."
        gr.Warning(message)
        yield status_only(f"⚠ {message}", download)


def status_only(status: str, download: bool = False) -> tuple[Any, ...]:
    """Outputs that change only the status line."""
    return (gr.skip(), gr.skip(), status, gr.skip(), gr.skip(), gr.skip()) + ((gr.skip(),) if download else ())


class Events:
    """Event functions with the exact signatures Gradio inspects (Request, Progress)."""

    def __init__(self, studio: Studio, jobs: Jobs | None = None) -> None:
        self.studio = studio
        self.jobs = jobs or Jobs()
        self.cost = JobCost(studio)
        # set by ui.build once the queue exists: the requests of the jobs in Gradio's queue, how many may wait
        self.queued: Callable[[], list[object]] = list
        self.queue_size: int | None = None

    def _job(
        self, request: gr.Request | None, progress: gr.Progress | None, make: Callable, download: bool = False
    ) -> Iterator:
        key = session_key(request)
        flag = self.jobs.start(key, request_token(request), arrival(request))
        if flag is None:  # Stop reached it while it waited in the queue
            yield status_only("Stopped before it started: nothing was computed or saved.", download)
            return
        try:
            yield from stream(self.studio, lambda: make(flag), progress, download)
        finally:
            self.jobs.finish(key, flag)

    def admission(self, kind: str) -> Callable:
        """The validator of a model event: runs when a job asks to be queued (before the queue): refuses a
        job over the cost cap or one more than the queue holds (Gradio checks its length before this runs
        and appends after it, so a burst of joins would all pass its own check), and registers the rest
        so that Stop can cancel them while they wait."""
        event = getattr(self, kind)
        params = [p for name, p in inspect.signature(event).parameters.items() if name != "progress"]

        def validate(*args: Any) -> list[dict]:
            *values, request = args
            refusal = request_pictures(values, self.studio.limits)  # before anything is decoded
            cost = self.cost(kind, tuple(values)) if refusal is None else None
            refusal = refusal or (over_cap(cost, self.studio.limits) if cost is not None else None)
            if refusal is None and not self.jobs.admit(
                session_key(request), request_token(request), self.queued(), self.queue_size
            ):
                refusal = f"the queue is full ({self.queue_size} jobs waiting for the model): try again in a minute"
            # one verdict per input; the refusal is shown on the first (Gradio names it in the message)
            return [gr.validate(refusal is None or i > 0, refusal or "") for i in range(len(values))]

        validate.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        validate.__annotations__ = {"request": gr.Request}  # Gradio injects the request by this hint
        validate.__name__ = f"admit_{kind}"
        return validate

    def generate(
        self,
        width: float,
        height: float,
        steps: float,
        guidance: float,
        seed: float,
        batch: float,
        mode: str,
        tileable: bool,
        style: Any,
        sampler: str | None,
        grid: str | None,
        eta: float | None,
        composition: str | None,
        palette: float | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's documented idiom
    ) -> Iterator[tuple]:
        """Paint a canvas: previews while it runs, then the PNG."""
        args = (width, height, steps, guidance, seed, batch, mode, tileable, style, sampler, grid, eta, composition)
        args += (palette,)
        yield from self._job(request, progress, lambda flag: self.studio.generate(*args, stop=flag))

    def inpaint(
        self,
        editor: Any,
        blur: float,
        method: str,
        only_masked: bool,
        margin: float,
        steps: float,
        guidance: float,
        seed: float,
        sampler: str | None,
        grid: str | None,
        eta: float | None,
        strength: float | None,
        content: str,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[tuple]:
        """Repaint the painted area of the picture."""
        args = (editor, blur, method, only_masked, margin, steps, guidance, seed, sampler, grid, eta, strength, content)
        yield from self._job(request, progress, lambda flag: self.studio.inpaint(*args, stop=flag))

    def outpaint(
        self,
        picture: Any,
        top: float,
        right: float,
        bottom: float,
        left: float,
        feather: float,
        steps: float,
        guidance: float,
        seed: float,
        sampler: str | None,
        grid: str | None,
        eta: float | None,
        strength: float | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[tuple]:
        """Extend the picture beyond its borders."""
        args = (picture, top, right, bottom, left, feather, steps, guidance, seed, sampler, grid, eta, strength)
        yield from self._job(request, progress, lambda flag: self.studio.outpaint(*args, stop=flag))

    def sketch(
        self,
        editor: Any,
        width: float,
        height: float,
        strength: float,
        steps: float,
        guidance: float,
        seed: float,
        sampler: str | None,
        grid: str | None,
        eta: float | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[tuple]:
        """Paint a wallpaper that follows a colour sketch (image-to-image)."""
        args = (editor, width, height, strength, steps, guidance, seed, sampler, grid, eta)
        yield from self._job(request, progress, lambda flag: self.studio.sketch(*args, stop=flag))

    def upscale(
        self,
        picture: Any,
        factor: str,
        width: float | None,
        height: float | None,
        strength: float,
        steps: float,
        guidance: float,
        seed: float,
        sampler: str | None,
        grid: str | None,
        eta: float | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[tuple]:
        """Enlarge a picture with new detail."""
        args = (picture, factor, width, height, strength, steps, guidance, seed, sampler, grid, eta)
        yield from self._job(request, progress, lambda flag: self.studio.upscale(*args, stop=flag))

    def span(
        self,
        monitors: str,
        bezel: float,
        steps: float,
        guidance: float,
        seed: float,
        sampler: str | None,
        grid: str | None,
        eta: float | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[tuple]:
        """Paint one picture across several monitors; the whole, each monitor's file, and their ZIP."""
        args = (monitors, bezel, steps, guidance, seed, sampler, grid, eta)
        yield from self._job(request, progress, lambda flag: self.studio.span(*args, stop=flag), download=True)

    def span_plan(self, monitors: str, bezel: float, steps: float) -> tuple[Any, str]:
        return self.studio.span_plan(monitors, bezel, steps)

    def add_monitor(self, monitors: str, screen: str, x: float | None, y: float | None) -> str:
        try:
            return add_monitor(monitors, screen, x, y)
        except (InputError, ValueError) as exc:
            gr.Warning(str(exc))
            return gr.skip()

    def upscale_plan(self, picture: Any, factor: str, width: float | None, height: float | None) -> str:
        return self.studio.upscale_plan(picture, factor, width, height)

    def fill_canvas(self, colour: str, width: float, height: float) -> dict:
        """A new sketch canvas filled with one colour (the editor's value: background, no strokes)."""
        try:
            fill = ImageColor.getrgb(colour or "#ffffff")
        except ValueError:
            gr.Warning(f"not a colour: {colour!r}")
            fill = (255, 255, 255)
        w, h = sketch_canvas(width, height)
        return {"background": Image.new("RGBA", (w, h), (*fill[:3], 255)), "layers": [], "composite": None}

    def stop(self, request: gr.Request) -> str:
        """Stop this session's running job after its current step, and cancel its queued ones."""
        return self.jobs.stop(session_key(request))

    def outpaint_layout(
        self, picture: Any, top: float, right: float, bottom: float, left: float, feather: float
    ) -> tuple[Any, str]:
        """A sketch of the grown canvas (no model involved)."""
        if picture is None:
            return None, "Upload a picture, then choose how far to extend each side."
        try:
            return self.studio.outpaint_layout(picture, top, right, bottom, left, feather)
        except InputError as exc:
            return None, f"⚠ {exc}"

    def plan(self, width: float, height: float, steps: float) -> str:
        return self.studio.plan(width, height, steps)

    def history(self) -> list[tuple[str, str]]:
        """Every saved picture, newest first."""
        return self.studio.history.gallery()

    def select(self, evt: gr.SelectData) -> tuple[str | None, str]:
        """Remember the picked history picture and show its parameters."""
        value = evt.value if isinstance(evt.value, dict) else {}
        image = value.get("image", value)
        served = image.get("path") if isinstance(image, dict) else None
        # Gradio serves a cached copy that keeps the file name; history names are unique.
        path = self.studio.history.root / Path(served).name if served else None
        if path is None or not self.studio.history.serves(path):
            items = self.studio.history.items()
            path = items[evt.index] if isinstance(evt.index, int) and evt.index < len(items) else None
        path = str(path) if path else None
        return path, read_parameters(path) or "(no parameters stored)"

    def send(self, path: str | None, tab: str) -> tuple[Any, Any]:
        """Put a picture into another tab (Generate: as the style reference) and switch to it."""
        if not path:
            gr.Warning("pick a picture first")
            return gr.skip(), gr.skip()
        return path, gr.Tabs(selected=tab)
