from __future__ import annotations

import torch

from patchdm_core import PatchDM, tiny
from patchdm_core.cli.main import main
from patchdm_core.model.patchdm import PatchDMModel
from patchdm_core.model.weights import load_weights, save_weights
from patchdm_core.training.latent import dataset_codes, train_latent
from tests.helpers import image_folder


def test_latent_model_learns_the_code_distribution() -> None:
    torch.manual_seed(0)
    model = PatchDMModel(tiny())
    g = torch.Generator().manual_seed(1)
    codes = torch.randn(64, 8, generator=g) * torch.linspace(0.5, 2, 8) + torch.linspace(-3, 3, 8)
    losses = train_latent(model, codes, steps=250, batch=64, lr=3e-3, log_every=50)
    assert losses[-1] < losses[0] and model.latent.ready
    pipe = PatchDM(model, device=torch.device("cpu"), name="t", model_hash="x")
    z = pipe.sample_z(256, seed=0, steps=20)
    assert z.shape == (256, 8)
    assert (z.mean(0) - codes.mean(0)).abs().max() < 1.0  # the denormalised samples sit where the codes are
    assert torch.equal(pipe.sample_z(2, seed=5), pipe.sample_z(2, seed=5))


def test_train_latent_command_updates_the_weights_file(tmp_path, tiny_pipe) -> None:
    weights = save_weights(tmp_path / "w.safetensors", tiny_pipe.model, tiny_pipe.cfg, metadata={"train_steps": "7"})
    data = image_folder(tmp_path / "d", n=3)
    assert len(dataset_codes(tiny_pipe.model, data)) == 6  # each picture and its mirror image
    assert main(["train-latent", "--weights", str(weights), "--data", str(data), "--steps", "30"]) == 0
    _, state, meta = load_weights(weights)
    assert state["latent.trained"].item() == 1 and meta["latent_steps"] == "30" and meta["train_steps"] == "7"
    pipe = PatchDM.load(weights, device="cpu")
    assert pipe.default_z(3) is not None and pipe.default_z(3).shape == (1, tiny().unet.z_dim)
    assert PatchDM.random_init(tiny()).default_z(3) is None  # an untrained latent model is never used


def test_near_black_pictures_stay_out_of_the_prior(tmp_path, tiny_pipe, capsys) -> None:
    from PIL import Image

    data = image_folder(tmp_path / "d", n=3)
    Image.new("RGB", (96, 64), (6, 6, 10)).save(data / "night.png")
    Image.new("RGB", (96, 64), (30, 28, 26)).save(data / "dusk.png")  # luminance 0.11: kept at 0.1
    assert len(dataset_codes(tiny_pipe.model, data)) == 10
    assert len(dataset_codes(tiny_pipe.model, data, min_luminance=0.1)) == 8  # the night picture and its mirror
    assert "1 of 5 pictures darker than 0.1 left out" in capsys.readouterr().out
    weights = save_weights(tmp_path / "w.safetensors", tiny_pipe.model, tiny_pipe.cfg)
    args = ["train-latent", "--weights", str(weights), "--data", str(data), "--steps", "5", "--min-luminance", "0.1"]
    assert main(args) == 0 and load_weights(weights)[2]["latent_min_luminance"] == "0.1"
    assert main([*args[:-1], "1"]) == 2  # every picture darker than white: one clear error
    assert "every picture in" in capsys.readouterr().err
