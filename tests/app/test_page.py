"""The page's public API is what API clients were written against: the same endpoints, in the same order, with
the same parameters and outputs (built without a server; tiny model). New parameters come only at the end of
an endpoint's inputs (a preset and the guidance interval everywhere; Generate's layout family and strength,
Span's composition, Sketch's and Upscale's way of bringing the picture in), and new endpoints after the old
ones (/vary), so that a client written before them keeps working."""

from __future__ import annotations

from pathlib import Path

from app.page import build
from app.shared.history import History
from app.shared.imaging import Limits
from app.studio import Studio
from patchdm_core import PatchDM

SAMPLING = ["steps", "guidance", "seed", "sampler", "grid", "eta"]
NEW = ["preset", "guidance_interval"]  # every painting endpoint's last two
# name -> (parameters, number of outputs); the /lambda* ones are the result panels' seed mirrors (see shared/tab.py)
API = {
    **{name: (["s"], 1) for name in ("/lambda", "/lambda_1", "/lambda_3", "/lambda_4", "/lambda_5", "/lambda_6")},
    "/generate": (
        ["width", "height", *SAMPLING[:3], "batch", "mode", "tileable", "style", *SAMPLING[3:], "composition"]
        + ["palette", "layout_family", "layout_strength", *NEW],
        6,
    ),
    "/inpaint": (["editor", "blur", "method", "only_masked", "margin", *SAMPLING, "strength", "content", *NEW], 6),
    "/outpaint": (["picture", "top", "right", "bottom", "left", "feather", *SAMPLING, "strength", *NEW], 6),
    "/sketch": (["editor", "width", "height", "strength", *SAMPLING, "how", "follow", *NEW], 6),
    "/upscale": (["picture", "factor", "width", "height", "strength", *SAMPLING, "how", *NEW], 6),
    "/span": (["monitors", "bezel", *SAMPLING, "composition", "layout_family", "layout_strength", *NEW], 7),
    "/stop": ([], 1),
    "/outpaint_layout": (["picture", "top", "right", "bottom", "left", "feather"], 2),
    "/vary": (["picture", "how"], 6),
}


def test_the_public_endpoints_their_order_and_parameters_are_unchanged(tiny_pipe: PatchDM, tmp_path: Path) -> None:
    demo = build(Studio(tiny_pipe, History(tmp_path / "outputs"), Limits()))
    named = demo.get_api_info()["named_endpoints"]
    assert list(named) == list(API)
    for name, (parameters, outputs) in API.items():
        assert [p["parameter_name"] for p in named[name]["parameters"]] == parameters, name
        assert len(named[name]["returns"]) == outputs, name
