from __future__ import annotations

import json

import pytest

from patchdm_core.cli.main import main
from patchdm_core.evaluation.evaluate import Setting, settings_grid
from tests.helpers import image_folder


def test_settings_grid_varies_the_grid_rule_only_in_feature_mode() -> None:
    rows = settings_grid(
        ["feature", "naive"], ["fixed", "random"], [("ddim", 25), ("dpmpp-2m", 10)], [0.0, 0.5], [None]
    )
    assert len(rows) == 2 * 2 * 2 + 2 * 2  # feature: grids x samplers x etas; naive: samplers x etas
    assert Setting("feature", "random", "dpmpp-2m", 10, 0.5) in rows and Setting("naive", "-", "ddim", 25, 0.0) in rows


def test_eval_writes_one_row_per_setting_with_scores(tmp_path) -> None:
    data = image_folder(tmp_path / "heldout", n=3, size=(160, 96))
    out = tmp_path / "eval"
    args = [
        "eval", "--random-init", "tiny", "--data", str(data), "--n", "2", "--sizes", "128x64",
        "--modes", "feature,naive", "--grids", "fixed,random", "--samplers", "ddim:2,dpmpp-2m:3", "--etas", "0",
        "--out", str(out), "--save-images",
    ]  # fmt: skip
    assert main(args) == 0
    rows = json.loads((out / "eval.json").read_text())["rows"]
    assert rows[0]["setting"] == "held-out pictures" and rows[0]["n"] == 3
    made = [r for r in rows[1:]]
    assert {(r["mode"], r["grid"], r["sampler"], r["steps"]) for r in made} == {
        ("feature", "fixed", "ddim", 2),
        ("feature", "random", "ddim", 2),
        ("feature", "fixed", "dpmpp-2m", 3),
        ("feature", "random", "dpmpp-2m", 3),
        ("naive", "-", "ddim", 2),
        ("naive", "-", "dpmpp-2m", 3),
    }
    assert all(r["seam"] > 0 and r["lattice"] > 0 and r["swd"] > 0 and r["seconds"] > 0 for r in made)
    assert rows[0]["grain"] > 0 and all(r["grain"] > 0 for r in made)
    assert all(r["streaks"] > 0 for r in rows)
    assert len(list((out / "images").glob("*.png"))) == 2 * len(made)
    assert "| 128x64 | feature | stretch | random | dpmpp-2m | 3 | 0 | 2 |" in (out / "eval.md").read_text()
    assert all(0 <= r["smooth"] <= 1 for r in rows)
    for r in made:  # composition: SWD per level, of 64 px (64x32: three levels) and 32 px thumbnails, two halves
        assert len(r["swd_levels"]) >= 2 and r["swd"] == pytest.approx(sum(r["swd_levels"]) / len(r["swd_levels"]))
        assert len(r["thumb64_levels"]) == 3 and r["thumb64"] > 0 and r["thumb32"] > 0
        assert len(r["swd_halves"]) == 2 and len(r["thumb64_halves"]) == 2
    text = (out / "eval.md").read_text()
    tables = text.split("\n\n")[2:]  # after the command and the model
    assert len(tables) == 2 and "| spread of seed halves (SWD / thumb 64) |" in tables[1]
    for table in tables:  # every row has its header's columns
        assert len({line.count("|") for line in table.splitlines() if line.startswith("|")}) == 1
    assert f"| 128x64 | held-out pictures | 3 | - | - | - | {rows[0]['smooth']:.2f} | - |" in tables[1]


@pytest.mark.parametrize(("flag", "value"), [("--grids", "wobbly"), ("--samplers", "euler:3"), ("--modes", "magic")])
def test_eval_rejects_unknown_choices_before_any_work(tmp_path, flag: str, value: str, capsys) -> None:
    data = image_folder(tmp_path / "heldout", n=1, size=(160, 96))
    assert main(["eval", "--random-init", "tiny", "--data", str(data), flag, value, "--out", str(tmp_path / "e")]) == 2
    assert "error: unknown" in capsys.readouterr().err and not (tmp_path / "e").exists()


def test_eval_compares_canvases_painted_on_layouts_with_the_same_seeds(tmp_path) -> None:
    import torch

    from patchdm_core.composition.sources import LayoutBank

    data = image_folder(tmp_path / "heldout", n=2, size=(160, 96))
    from patchdm_core.model.layout import LayoutUNet, save_layout_model
    from tests.model.test_layout_model import TINY

    bank = LayoutBank(torch.rand(3, 3, 32, 64) * 2 - 1).save(tmp_path / "bank.png")
    model = save_layout_model(tmp_path / "layout.safetensors", LayoutUNet(TINY))
    out = tmp_path / "eval"
    args = [
        "eval", "--random-init", "tiny", "--data", str(data), "--n", "2", "--sizes", "64x32", "--modes", "feature",
        "--samplers", "ddim:2", "--compositions", "none,layouts,layout-model:img2img", "--layouts", str(bank),
        "--layout-model", str(model), "--out", str(out), "--save-images",
    ]  # fmt: skip
    assert main(args) == 0
    rows = json.loads((out / "eval.json").read_text())["rows"]
    assert [r["composition"] for r in rows[1:]] == ["none", "training-layouts", "layout-model"]
    assert [r["how"] for r in rows[2:]] == ["structure", "img2img"]
    assert all(0 <= r["novelty"] <= 1 for r in rows[1:])  # each row's distance to the bank's nearest layout
    tables = (out / "eval.md").read_text()
    assert "| 64x32 | feature + training-layouts |" in tables
    assert "| 64x32 | feature + layout-model (img2img) |" in tables
    names = {p.name for p in (out / "images").glob("*.png")}
    assert "64x32-feature-fixed-ddim2-eta0-default-training-layouts-structure-1.png" in names and len(names) == 6
    assert "64x32-feature-fixed-ddim2-eta0-default-layout-model-img2img-1.png" in names
    assert main([*args[:-7], "--compositions", "magic", "--out", str(tmp_path / "e2")]) == 2
