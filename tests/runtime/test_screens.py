"""Screens: named sizes, spans over several monitors (with bezels), and the CLI that paints and cuts them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from patchdm_core.cli.main import main
from patchdm_core.runtime.images import parse_infotext
from patchdm_core.runtime.screens import PRESETS, SCREENS, Monitor, parse_span, span_layout
from patchdm_core.runtime.sizes import parse_size


def test_presets_are_grouped_and_parse_as_sizes() -> None:
    assert set(SCREENS) == {"desktop", "ultrawide", "phone", "tablet"}
    assert parse_size("4k") == (3840, 2160) and parse_size("ULTRAWIDE-1440") == (3440, 1440)
    assert parse_size("phone-1080") == (1080, 2400)
    assert all(h > w for w, h in (*SCREENS["phone"].values(), *SCREENS["tablet"].values()))  # portrait


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_paints_at_its_exact_size(tiny_pipe, monkeypatch, name: str) -> None:
    """The geometry of every screen (off the 16-px grid of the tiny model, tiled or not) comes out at the
    screen's size; the network is replaced by a zero eps so that 5K canvases cost no more than the noise."""
    from patchdm_core.sampling.painter import Painter

    monkeypatch.setattr(Painter, "denoiser", lambda self, *a, **k: lambda x, t, cond: torch.zeros_like(x))
    w, h = PRESETS[name]
    for tileable in (False, True) if w * h < 4e6 else (False,):
        steps = list(tiny_pipe.generate(h, w, seed=1, steps=1, guidance=1.0, tileable=tileable))
        assert tuple(steps[-1].x.shape[-2:]) == (h, w), (name, tileable)


def test_a_span_is_parsed_as_display_settings_write_it() -> None:
    two = [Monitor(2560, 1440, 0, 0), Monitor(1920, 1080, 2560, 180)]
    assert parse_span("2560x1440+0+0, 1920x1080+2560+180") == two
    assert parse_span("4k+0+0,1080x1920-1080+0")[1] == Monitor(1080, 1920, -1080, 0)  # left of the primary
    assert parse_span("1920x1080+-1920+0")[0].x == -1920


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "at least one monitor"),
        ("2560x1440", "WIDTHxHEIGHT\\+X\\+Y"),
        ("2560x1440+0+0,1920x1080+2000+0", "overlap"),
        ("0x1440+0+0", "positive"),
        ("big+0+0", "WIDTHxHEIGHT"),
    ],
)
def test_a_bad_span_is_one_sentence(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_span(text)


def test_bezels_move_each_monitor_once_per_edge_before_it() -> None:
    monitors = parse_span("1920x1080+0+0,2560x1440+1920+0,1920x1080+4480+180,1920x1080+0+1080")
    (w, h), placed = span_layout(monitors, bezel=30)
    assert [(m.x, m.y) for m in placed] == [(0, 0), (1950, 0), (4540, 180), (0, 1110)]
    assert (w, h) == (4540 + 1920, 1110 + 1080)
    (w0, h0), same = span_layout(monitors, bezel=0)
    assert [(m.x, m.y) for m in same] == [(m.x, m.y) for m in monitors] and (w0, h0) == (6400, 2160)


def test_generate_span_writes_the_whole_picture_and_exact_crops_with_bezel_columns_in_none(tmp_path) -> None:
    out = tmp_path / "wall.png"
    argv = ["generate", "--random-init", "tiny", "--steps", "2", "--seed", "3", "-o", str(out)]
    assert main([*argv, "--span", "48x32+0+0,32x16+48+8", "--bezel", "8"]) == 0
    whole = np.asarray(Image.open(out))
    assert whole.shape[:2] == (32, 48 + 8 + 32)
    first, second = (tmp_path / f"wall-monitor{i}.png" for i in (1, 2))
    a, b = np.asarray(Image.open(first)), np.asarray(Image.open(second))
    assert np.array_equal(a, whole[0:32, 0:48]) and np.array_equal(b, whole[8:24, 56:88])
    covered = np.zeros(whole.shape[:2], bool)
    covered[0:32, 0:48] = covered[8:24, 56:88] = True
    assert not covered[:, 48:56].any()  # the bezel: painted, in no monitor's file
    info = parse_infotext(Image.open(second).info["parameters"])
    assert info["Monitor"] == "2/2" and info["Crop"] == "32x16+56+8" and info["Bezel"] == "8"
    assert info["Span"] == "48x32+0+0,32x16+48+8" and info["Size"] == "88x32" and info["Seed"] == "3"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--span", "48x32+0+0", "--size", "64x64"], "--size or --span"),
        (["--bezel", "8"], "--bezel needs --span"),
        (["--span", "48x32+0+0,48x32+40+0"], "overlap"),
        (["--size", "8kk"], "name a screen"),
    ],
)
def test_span_refusals_are_one_line_and_write_nothing(tmp_path, capsys, extra: list, message: str) -> None:
    out = tmp_path / "w.png"
    assert main(["generate", "--random-init", "tiny", "-o", str(out), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
