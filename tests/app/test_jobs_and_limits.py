"""The parts behind the studio's job handling, without a server (tiny model, 16-px patches): the measured pace
and the time it predicts, the one fit check (pixels, cost, memory) and the largest size it offers, the
model's thread (a page's job outlives its page, an API client's does not; progress coalesced), the settings
a browser stores, the presets and the guidance interval."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import gradio as gr
import pytest

from app.shared import fit
from app.shared.clients import Clients, restore
from app.shared.controls import parse_interval, preset_values
from app.shared.cost import Need
from app.shared.history import History
from app.shared.imaging import InputError, Limits
from app.shared.jobs import Update
from app.shared.pace import Pace, fmt_duration
from app.shared.runner import Runner, coalesce
from app.studio import Studio
from patchdm_core import PatchDM
from patchdm_core.runtime.limits import largest_fitting
from patchdm_core.sampling.presets import PRESETS


@pytest.fixture
def studio(tiny_pipe: PatchDM, tmp_path: Path) -> Studio:
    return Studio(tiny_pipe, History(tmp_path / "out"), Limits(max_pixels=256 * 256, max_job_cost=10.0))


def test_durations_read_as_estimates() -> None:
    assert [fmt_duration(s) for s in (0.2, 7.4, 42, 95, 600, 5400, 7260)] == [
        "1 s",
        "7 s",
        "40 s",
        "1.5 min",
        "10 min",
        "1 h 30 min",
        "2 h 01 min",
    ]


def test_the_pace_is_measured_then_follows_finished_jobs(tiny_pipe: PatchDM) -> None:
    pace = Pace()
    assert pace.seconds(1.0) is None and pace.about(1.0) == ""
    rate = pace.calibrate(tiny_pipe)
    assert rate > 0 and len(pace.points) == 2 and pace.fixed >= 0
    assert pace.seconds(2.0, 10) == pytest.approx(2 * rate + 10 * pace.fixed)
    line = Pace()  # steps of 0.1 s + 2 s per megapixel-step, seen at two sizes: both parts found
    line.record(0.5, 0.1 + 2 * 0.5, overhead=2.0)
    line.record(1.5, 0.1 + 2 * 1.5, overhead=0.0)
    assert line.rate == pytest.approx(2.0) and line.fixed == pytest.approx(0.1) and line.overhead == pytest.approx(0.5)
    assert line.seconds(3.0, 10) == pytest.approx(0.5 + 1.0 + 6.0)
    line.rate = 5.0  # given by hand: no fixed part
    assert line.seconds(1.0, 100) == pytest.approx(5.5) and line.source == "given"


def test_the_calibration_counts_the_passes_its_timed_steps_make(tiny_pipe: PatchDM, monkeypatch) -> None:
    from app.shared.pace import CALIBRATION

    rows, cols = CALIBRATION[0]
    mp = rows * cols * tiny_pipe.p**2 / 1e6
    own = tiny_pipe.settings
    for interval, passes in (((0, 999), 2), ((450, 999), 1)):  # 3 steps: 999 (not timed), 302, 0
        monkeypatch.setattr(
            tiny_pipe, "settings", lambda **kw: own(**kw) | {"guidance": 1.5, "guidance_interval": interval}
        )
        pace = Pace()
        pace.calibrate(tiny_pipe)
        assert pace.points[0][0] == pytest.approx(mp * passes), interval


def test_a_job_that_fits_is_not_refused_and_one_that_does_not_names_the_largest_that_fits(studio: Studio) -> None:
    fits = Need(128, 64, unit=8.0)
    assert fit.refusal(studio, fits) is None
    big = Need(1024, 512, unit=8.0)  # 0.5 MP: over 256x256 pixels, and 4.2 megapixel-steps x ... over the cap
    reason = fit.refusal(studio, big)
    assert reason.startswith("the canvas 1024×512 is too large here: 0.5 MP, over the limit of 65 536 pixels")
    best = fit.largest(studio, big)
    assert reason.endswith(f"the largest canvas of this shape that fits is {best[0]}×{best[1]}")
    assert (
        abs(best[0] / best[1] - 2) < 0.2
        and best[0] * best[1] <= 256 * 256
        and fit.refusal(studio, Need(*best, 8.0)) is None
    )
    costly = Need(256, 256, unit=200.0)  # 13 megapixel-steps over a cap of 10
    assert "13 megapixel-steps, over this server's cap of 10 (--max-job-cost)" in fit.refusal(studio, costly)
    studio.pace.rate = 60.0
    assert "(--max-job-cost), about 13 min here" in fit.refusal(studio, costly)
    assert fit.plan(studio, fits, "x").startswith("x · about ")
    with pytest.raises(InputError, match="too large here"):
        fit.check(studio, big)


def test_a_canvas_over_the_free_memory_is_refused_with_what_it_needs(studio: Studio) -> None:
    """issue 30: the memory check of the command line, with the largest canvas that fits (runtime.limits)."""
    need = Need(256, 256, unit=1.0)
    bytes_needed = fit.memory_need(studio, need, 256, 256)
    studio.limits = Limits(max_pixels=256 * 256, max_job_cost=10.0, free_memory=bytes_needed // 2)
    reason = fit.refusal(studio, need)
    assert "of memory, more than the" in reason and "this machine has free" in reason
    w, h = fit.largest(studio, need)
    assert fit.memory_need(studio, need, w, h) <= bytes_needed // 2 and w == h
    assert (w, h) == largest_fitting(256, 256, 16, lambda a, b: fit.fits(studio, need, a, b, bytes_needed // 2))


def test_every_tab_checks_its_canvas_before_any_work(studio: Studio, tmp_path: Path) -> None:
    from tests.app.test_handlers import picture, run_all, saved

    src = tmp_path / "p.png"
    picture(128, 128).save(src)
    for job in (
        studio.generate(1024, 1024, steps=2, seed=1),
        studio.upscale(str(src), "×4", steps=2, seed=1),
        studio.span("1024x512+0+0", 0, steps=2, seed=1),
        studio.outpaint(str(src), 0, 512, 0, 0, steps=2, seed=1),
    ):
        with pytest.raises(InputError, match="too large here"):
            run_all(job)
    assert saved(studio) == []


def test_explicit_settings_win_over_a_preset_and_an_empty_one_takes_it(studio: Studio) -> None:
    quality = PRESETS["quality"]
    s = studio._settings(None, None, None, None, None, "quality", None)
    assert (s["steps"], s["guidance"], s["sampler"]) == (quality["steps"], quality["guidance"], quality["sampler"])
    s = studio._settings(3, None, None, None, None, "fast", "100-200")
    assert s["steps"] == 3 and s["guidance_interval"] == (100, 200) and s["sampler"] == PRESETS["fast"]["sampler"]
    assert studio._settings(3, None, None, None, None, "custom", "")["steps"] == 3
    with pytest.raises(InputError, match="unknown preset 'turbo'"):
        studio._settings(None, None, None, None, None, "turbo", None)
    assert parse_interval("350-750") == (350, 750) and parse_interval([0, 999]) == (0, 999)
    assert parse_interval("") is None
    for bad, words in (("750-350", "from low to high"), ("abc", "LO-HI"), ("0-2000", "between 0 and 999")):
        with pytest.raises(InputError, match=words):
            parse_interval(bad)
    assert preset_values("fast")[0] == PRESETS["fast"]["steps"]


def test_the_guidance_interval_reaches_the_picture_and_costs_less(studio: Studio) -> None:
    from patchdm_core.runtime.images import parse_infotext
    from tests.app.test_handlers import finals, read_parameters, run_all

    [path] = finals(run_all(studio.generate(32, 32, steps=4, seed=1, guidance_interval="500-999")))
    assert parse_infotext(read_parameters(path))["Guidance interval"] == "500-999"
    full = studio.generate_need(64, 64, 8, 1.5).cost(16)
    half = studio.generate_need(64, 64, 8, 1.5, guidance_interval="500-999").cost(16)
    assert half < full and studio.generate_need(64, 64, 8, 1.0).cost(16) == pytest.approx(full / 2)


def test_progress_is_coalesced_but_nothing_of_its_own_is_dropped() -> None:
    steps = [Update(f"step {i}", preview=f"p{i}" if i % 2 else None, index=i, total=9) for i in range(1, 6)]  # type: ignore[arg-type]
    final = Update("done", final=Path("x.png"), index=5, total=5)
    kept = coalesce(steps + [final] + [Update("step 6", index=6, total=9)])
    assert [u.status for u in kept] == ["step 5", "done", "step 6"]
    assert kept[0].preview == "p5"  # the newest preview rides on the newest status
    kept = coalesce([Update("a", preview="p1", index=1, total=9), Update("b", index=2, total=9)])  # type: ignore[arg-type]
    assert [(u.status, u.preview) for u in kept] == [("b", "p1")]


def test_a_job_runs_on_the_model_thread_whether_its_page_follows_it_or_not() -> None:
    runner = Runner(Pace(1.0))
    release = threading.Event()

    def work():
        yield Update("step 1", index=1, total=2)
        release.wait(5)
        yield Update("done", final=Path("a.png"), seed=7, index=2, total=2)

    ended = []
    run = runner.submit("browser-1", "generate", work, (1.0, 2), on_end=lambda: ended.append(True))
    first = next(run.follow())  # the start's estimate, then its steps
    assert first.status.startswith(("Starting · about", "step 1"))
    assert runner.ahead() and runner.records["browser-1"].state == "running"
    other = runner.submit("browser-2", "span", lambda: iter([Update("x")]), (0.0, 0), on_end=lambda: None)
    assert [r.kind for r in runner.ahead(other)] == ["generate"]  # it waits for the first
    release.set()  # nobody follows the first any more (its page reloaded): it still finishes
    deadline = time.monotonic() + 10
    while runner.records["browser-2"].state != "done":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    rec = runner.records["browser-1"]
    assert rec.state == "done" and rec.finals == [Path("a.png")] and rec.seed == 7 and ended == [True]


def test_a_failing_job_is_one_sentence_and_the_thread_goes_on() -> None:
    runner = Runner()

    def boom():
        raise RuntimeError("no")
        yield  # pragma: no cover

    run = runner.submit("k", "generate", boom, (0.0, 0), on_end=lambda: None)
    [u] = list(run.follow())
    assert u.warning.startswith("Something went wrong (RuntimeError: no)") and runner.records["k"].state == "failed"
    bad = runner.submit("k", "generate", lambda: (_ for _ in ()).throw(InputError("the mask is empty")), (0, 0), list)
    assert [u.status for u in bad.follow()] == ["⚠ the mask is empty"]


def test_a_browser_keeps_its_id_and_gets_back_only_settings_its_controls_can_take() -> None:
    clients = Clients()
    new = clients.hello("session-1", None)
    assert len(new) == 16 and clients.key("session-1") == new and clients.is_page("session-1")
    assert clients.hello("session-2", new) == new  # a reload: a new session, the same browser
    assert clients.key("api-client") == "api-client" and not clients.is_page("api-client")
    assert clients.hello("session-3", "../../etc") != "../../etc"
    keep = {
        "w": gr.Number(1024, minimum=16, maximum=65536),
        "steps": gr.Slider(1, 200, value=12),
        "how": gr.Radio([("a", "structure"), ("b", "img2img")], value="structure"),
        "tile": gr.Checkbox(),
        "text": gr.Textbox(),
    }
    stored = {"settings": {"w": 2048, "steps": 500, "how": "img2img", "tile": "yes", "text": "2560x1440+0+0"}}
    values = restore(keep, stored)
    skip = gr.skip()
    assert values[0] == 2048 and values[2] == "img2img" and values[4] == "2560x1440+0+0"
    assert values[1] == skip and values[3] == skip  # out of range, not a bool
    assert restore(keep, "garbage") == [skip] * 5
