"""The page's public API is what API clients were written against: the same endpoints, in the same order, with
the same parameters and outputs (built without a server; tiny model)."""

from __future__ import annotations

from pathlib import Path

from app.page import build
from app.shared.history import History
from app.shared.imaging import Limits
from app.studio import Studio
from patchdm_core import PatchDM

SAMPLING = ["steps", "guidance", "seed", "sampler", "grid", "eta"]
# name -> (parameters, number of outputs); the /lambda* ones are the result panels' seed mirrors (see shared/tab.py)
API = {
    **{name: (["s"], 1) for name in ("/lambda", "/lambda_1", "/lambda_3", "/lambda_4", "/lambda_5", "/lambda_6")},
    "/generate": (
        ["width", "height", *SAMPLING[:3], "batch", "mode", "tileable", "style", *SAMPLING[3:], "composition"]
        + ["palette"],
        6,
    ),
    "/inpaint": (["editor", "blur", "method", "only_masked", "margin", *SAMPLING, "strength", "content"], 6),
    "/outpaint": (["picture", "top", "right", "bottom", "left", "feather", *SAMPLING, "strength"], 6),
    "/sketch": (["editor", "width", "height", "strength", *SAMPLING], 6),
    "/upscale": (["picture", "factor", "width", "height", "strength", *SAMPLING], 6),
    "/span": (["monitors", "bezel", *SAMPLING], 7),
    "/stop": ([], 1),
    "/outpaint_layout": (["picture", "top", "right", "bottom", "left", "feather"], 2),
}


def test_the_public_endpoints_their_order_and_parameters_are_unchanged(tiny_pipe: PatchDM, tmp_path: Path) -> None:
    demo = build(Studio(tiny_pipe, History(tmp_path / "outputs"), Limits()))
    named = demo.get_api_info()["named_endpoints"]
    assert list(named) == list(API)
    for name, (parameters, outputs) in API.items():
        assert [p["parameter_name"] for p in named[name]["parameters"]] == parameters, name
        assert len(named[name]["returns"]) == outputs, name
