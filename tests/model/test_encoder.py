from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from safetensors.torch import save_file

from patchdm_core import PatchDM, tiny
from patchdm_core.model.config import EncoderConfig
from patchdm_core.model.encoder import ClipEncoder
from patchdm_core.training.loop import train
from tests.helpers import image_folder, smooth_picture

TINY_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 8},
    "text_cfg": {"context_length": 8, "vocab_size": 64, "width": 16, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def clip_weights(tmp_path_factory):
    """A small UNTRAINED open_clip model, registered and saved locally (nothing is downloaded)."""
    open_clip = pytest.importorskip("open_clip")
    folder = tmp_path_factory.mktemp("clip")
    (folder / "patchdm-test-vit.json").write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(folder / "patchdm-test-vit.json")
    torch.manual_seed(0)
    model = open_clip.create_model("patchdm-test-vit", pretrained=None)
    path = folder / "tower.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


def _clip_cfg():
    cfg = tiny()
    enc = EncoderConfig(kind="clip", clip_model="patchdm-test-vit", clip_width=16)
    return cfg.replace(encoder=enc, train=dataclasses.replace(cfg.train, sample_every=0, save_every=0))


def test_clip_tower_loads_from_a_local_file_and_stays_frozen(clip_weights) -> None:
    enc = ClipEncoder(_clip_cfg().encoder, z_dim=8)
    with pytest.raises(RuntimeError, match="not loaded"):
        enc(torch.zeros(1, 3, 32, 64))
    enc.load_tower(clip_weights)
    z = enc(torch.rand(2, 3, 40, 80) * 2 - 1)
    assert z.shape == (2, 8) and not torch.allclose(z[0], z[1])
    assert all(k.startswith("proj.") for k in enc.state_dict())  # the tower is never saved with our weights
    assert all(not p.requires_grad for p in enc.tower.parameters())
    with pytest.raises(FileNotFoundError):
        enc.load_tower(clip_weights.parent / "missing.safetensors")


def test_training_with_the_clip_encoder_and_encode_style(tmp_path, clip_weights) -> None:
    result = train(_clip_cfg(), image_folder(tmp_path / "d"), tmp_path / "run", steps=2, clip_weights=str(clip_weights))
    assert result.step == 2
    pipe = PatchDM.load(tmp_path / "run" / "weights.safetensors", device="cpu", clip_weights=clip_weights)
    z = pipe.encode_style(smooth_picture(3))
    assert z.shape == (1, tiny().unet.z_dim)
    with pytest.raises(ValueError, match="--clip-weights"):
        train(_clip_cfg(), image_folder(tmp_path / "d"), tmp_path / "run2", steps=1)


def test_cnn_encode_style_differs_between_pictures(tiny_pipe) -> None:
    a, b = tiny_pipe.encode_style(smooth_picture(1)), tiny_pipe.encode_style(smooth_picture(2))
    assert a.shape == (1, tiny().unet.z_dim) and not torch.allclose(a, b)
