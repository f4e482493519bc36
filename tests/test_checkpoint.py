from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from patchdm_core import CheckpointError, PatchDM, run, tiny
from patchdm_core.checkpoint import load_weights, save_weights


@pytest.fixture
def saved(tmp_path, tiny_pipe):
    path = tmp_path / "m.safetensors"
    save_weights(path, tiny_pipe.model, tiny_pipe.cfg, dtype=torch.float32, metadata={"train_steps": "12"})
    return path


def test_round_trip(saved, tiny_pipe) -> None:
    cfg, state, meta = load_weights(saved)
    assert cfg == tiny_pipe.cfg and meta["train_steps"] == "12"
    loaded = PatchDM.load(saved, device="cpu")
    assert len(loaded.model_hash) == 10
    a = run(tiny_pipe.generate(32, 32, seed=1, steps=2))
    b = run(loaded.generate(32, 32, seed=1, steps=2))
    assert torch.equal(a, b)


def test_fp16_is_the_default(tmp_path, tiny_pipe) -> None:
    path = save_weights(tmp_path / "h.safetensors", tiny_pipe.model, tiny_pipe.cfg)
    _, state, _ = load_weights(path)
    assert state["unet.stem.weight"].dtype == torch.float16
    PatchDM.load(path, device="cpu")


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def test_missing_file(tmp_path) -> None:
    with pytest.raises(CheckpointError) as e:
        PatchDM.load(tmp_path / "nope.safetensors")
    assert "not found" in _one_line(e)


def test_truncated_file(saved) -> None:
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError) as e:
        PatchDM.load(saved)
    assert "not a readable safetensors" in _one_line(e)


def test_not_safetensors(tmp_path) -> None:
    path = tmp_path / "m.ckpt"
    torch.save({"a": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError) as e:
        PatchDM.load(path)
    assert "not a readable safetensors" in _one_line(e)


def test_foreign_safetensors(tmp_path) -> None:
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path), metadata={"format": "pt"})
    with pytest.raises(CheckpointError) as e:
        PatchDM.load(path)
    assert "not a Patch-DM weights file" in _one_line(e)


def test_config_that_does_not_match_the_tensors(tmp_path, tiny_pipe) -> None:
    from safetensors import safe_open

    path = save_weights(tmp_path / "m.safetensors", tiny_pipe.model, tiny_pipe.cfg)
    with safe_open(str(path), "pt") as f:
        state = {k: f.get_tensor(k) for k in f.keys()}
        meta = f.metadata()
    cfg = json.loads(meta["config"])
    cfg["unet"]["model_channels"] = 16
    save_file(state, str(path), metadata={**meta, "config": json.dumps(cfg)})
    with pytest.raises(CheckpointError) as e:
        PatchDM.load(path)
    assert "does not match its own config" in _one_line(e)


def test_tampered_tensor(tmp_path, tiny_pipe) -> None:
    path = save_weights(tmp_path / "m.safetensors", tiny_pipe.model, tiny_pipe.cfg)
    _, state, meta = load_weights(path)
    del state["unet.stem.bias"]
    save_file(state, str(path), metadata=meta)
    with pytest.raises(CheckpointError) as e:
        PatchDM.load(path)
    assert "missing" in _one_line(e)
    assert tiny().name == "tiny"
