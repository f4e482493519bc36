"""The layout model (model/layout.py): a small whole-picture diffusion model over thumbnails, its file, and
its sampler; trained for a few seconds it paints the one layout its pictures share."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from patchdm_core.model.layout import (
    LayoutConfig,
    LayoutModel,
    LayoutUNet,
    load_layout_model,
    save_layout_model,
)
from patchdm_core.model.weights import CheckpointError

TINY = LayoutConfig(thumb=(8, 16), channels=8, mult=(1, 2), res_blocks=1, attn_heights=(4,), heads=1, time_dim=16)


def sky_over_field(folder: Path, n: int = 4) -> Path:
    """n pictures of 96x48: a bright sky (each its own hue) over a dark field."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = Image.new("RGB", (96, 48), (20, 40 + 10 * i, 20))
        img.paste((230, 200 + 5 * i, 150), (0, 0, 96, 24))
        img.save(folder / f"sky{i}.png")
    return folder


def test_the_net_maps_thumbnails_to_thumbnails_and_refuses_bad_configs() -> None:
    net = LayoutUNet(TINY)
    x = torch.randn(3, 3, 8, 16)
    assert net(x, torch.tensor([0, 500, 999])).shape == (3, 3, 8, 16)
    with pytest.raises(ValueError, match="divisible"):
        LayoutConfig(thumb=(9, 16), mult=(1, 2))
    with pytest.raises(ValueError, match="positive"):
        LayoutConfig(channels=0)
    assert LayoutConfig.from_json(TINY.to_json()) == TINY


def test_the_same_seed_samples_the_same_layout_and_the_file_keeps_it(tmp_path: Path) -> None:
    net = LayoutUNet(TINY)
    for p in net.parameters():  # the zero-initialised output conv would sample from noise alone
        torch.nn.init.normal_(p, std=0.05) if p.ndim > 1 else None
    model = LayoutModel(net)
    a, b, c = model.thumbnail(3, steps=5), model.thumbnail(3, steps=5), model.thumbnail(4, steps=5)
    assert a.shape == (1, 3, 8, 16) and torch.equal(a, b) and not torch.equal(a, c)
    assert a.abs().max() <= 1
    path = save_layout_model(tmp_path / "layout.safetensors", net, {"train_steps": "7"})
    back = load_layout_model(path)
    assert back.cfg == TINY and back.metadata["train_steps"] == "7"
    rounded = LayoutUNet(TINY)  # the file holds fp16: the same net with its weights rounded so
    rounded.load_state_dict({k: v.half().float() for k, v in net.state_dict().items()})
    assert torch.allclose(back.thumbnail(3, steps=5), LayoutModel(rounded).thumbnail(3, steps=5), atol=1e-6)
    assert (back.thumbnail(3, steps=5) - a).abs().mean() < 0.01


def test_a_file_that_is_not_a_layout_model_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="layout model not found"):
        load_layout_model(tmp_path / "missing.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file at all")
    with pytest.raises(CheckpointError, match="cannot read the layout model"):
        load_layout_model(tmp_path / "junk.safetensors")
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"), metadata={"format": "patchdm/1"})
    with pytest.raises(CheckpointError, match="not a layout model"):
        load_layout_model(tmp_path / "other.safetensors")
    net = LayoutUNet(TINY)
    state = {k: v for k, v in net.state_dict().items() if not k.startswith("stem")}
    meta = {"format": "patchdm-layout/1", "config": TINY.to_json()}
    save_file(state, str(tmp_path / "cut.safetensors"), metadata=meta)
    with pytest.raises(CheckpointError, match="does not match its tensors"):
        load_layout_model(tmp_path / "cut.safetensors")


def test_trained_briefly_it_paints_the_layout_its_pictures_share(tmp_path: Path) -> None:
    from patchdm_core.training.layout import train_layout

    data = sky_over_field(tmp_path / "data")
    out = train_layout(data, tmp_path / "layout.safetensors", cfg=TINY, steps=80, batch=16, lr=3e-3, log=lambda _: None)
    model = load_layout_model(out)
    assert model.metadata["train_steps"] == "80" and model.metadata["final"] == "true"
    assert float(model.metadata["train_flop"]) > 0
    skies = torch.cat([model.thumbnail(seed, steps=20) for seed in range(4)])
    top, bottom = skies[:, :, :3].mean(), skies[:, :, 5:].mean()
    assert top > bottom + 0.5, (float(top), float(bottom))  # a bright sky over a dark field, for every seed
