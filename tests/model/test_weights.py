from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from patchdm_core import CheckpointError, PatchDM, run, tiny
from patchdm_core.model.weights import load_weights, save_weights


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


def test_weights_saved_before_grid_rules_still_load() -> None:
    """Configs written with `sampling.alternate` (before the grid rule) read as grid alternate / fixed."""
    import json

    from patchdm_core.model.config import PatchDMConfig
    from patchdm_core.model.presets import tiny

    data = json.loads(tiny().to_json())
    for alternate, grid in ((True, "alternate"), (False, "fixed")):
        data["sampling"] = {"steps": 25, "guidance": 1.5, "positions": "stretch", "alternate": alternate}
        cfg = PatchDMConfig.from_json(json.dumps(data))
        assert (cfg.sampling.grid, cfg.sampling.sampler, cfg.sampling.eta, cfg.sampling.steps) == (
            grid,
            "ddim",
            0.0,
            25,
        )


def test_set_sampling_defaults_changes_only_the_metadata(tmp_path, tiny_pipe) -> None:
    from safetensors import safe_open

    from patchdm_core.model.weights import set_sampling_defaults

    path = save_weights(tmp_path / "w.safetensors", tiny_pipe.model, tiny_pipe.cfg, metadata={"train_steps": "7"})
    with safe_open(str(path), "pt") as f:
        before = {k: f.get_tensor(k) for k in f.keys()}
    set_sampling_defaults(path, sampler="dpmpp-2m", steps=12, grid="random", eta=0.25)
    cfg, after, meta = load_weights(path)
    d = cfg.sampling
    assert (d.sampler, d.steps, d.grid, d.eta) == ("dpmpp-2m", 12, "random", 0.25)
    assert cfg.unet == tiny_pipe.cfg.unet and meta["train_steps"] == "7"
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    with pytest.raises(ValueError, match="sampling grid must be one of"):
        set_sampling_defaults(path, grid="wobbly")
    with pytest.raises(ValueError, match="not a sampling setting"):
        set_sampling_defaults(path, colour="red")
    assert load_weights(path)[0].sampling.grid == "random"  # a refused change writes nothing
