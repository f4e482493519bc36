from __future__ import annotations

import dataclasses
import json
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from patchdm_core import tiny
from patchdm_core.model.patchdm import PatchDMModel
from patchdm_core.model.schedule import Schedule
from patchdm_core.model.weights import load_weights
from patchdm_core.training.data import ImageFolderWindows
from patchdm_core.training.loop import Objective, draw_inputs, train, trainable
from tests.helpers import image_folder


def _cfg(**train_kw):
    cfg = tiny()
    return cfg.replace(
        train=dataclasses.replace(cfg.train, batch_size=4, sample_every=0, save_every=0, log_every=1, **train_kw)
    )


def test_one_step_moves_parameters_with_a_finite_loss(tmp_path) -> None:
    cfg = _cfg()
    torch.manual_seed(0)
    model = PatchDMModel(cfg)
    ds = ImageFolderWindows(image_folder(tmp_path / "d"), cfg.train.image_size, cfg.patch_size, cfg.encoder.view_size)
    gen = torch.Generator().manual_seed(0)
    batch = ds.sample(4, gen)
    t, keep_z, keep_pos = draw_inputs(cfg, 4, gen, torch.device("cpu"))
    loss, l_shift, l_plain = Objective(model, Schedule.linear())(
        batch, t, torch.randn(batch.x0.shape), keep_z, keep_pos
    )
    assert torch.isfinite(loss) and loss > 0 and torch.allclose(loss.detach(), l_shift + l_plain)
    before = {n: p.detach().clone() for n, p in trainable(model)}
    opt = torch.optim.AdamW([p for _, p in trainable(model)], lr=1e-3)
    loss.backward()
    opt.step()
    moved = [n for n, p in trainable(model) if not torch.equal(p, before[n])]
    assert any(n.startswith("unet.") for n in moved) and any(n.startswith("encoder.") for n in moved)
    assert not any(n.startswith("latent.") for n, _ in trainable(model))


def test_guidance_dropout_rates_hold_on_average() -> None:
    cfg = tiny()
    _, keep_z, keep_pos = draw_inputs(cfg, 40_000, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert abs((~keep_z).float().mean() - 0.1) < 0.01
    assert abs((~keep_pos).float().mean() - 0.5) < 0.01
    assert abs((~keep_z & ~keep_pos).float().mean() - 0.05) < 0.01  # independent


def _log(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_resume_is_exact(tmp_path) -> None:
    """N steps == N/2 + resume + N/2: the same batches, noise, flags and losses, and the same weights.

    Weights are compared to 1e-6: the CPU kernels sum in an order that depends on where a tensor
    happens to be allocated, so two model objects with bit-identical inputs differ in the last bit.
    """
    data = image_folder(tmp_path / "d")
    straight = train(_cfg(), data, tmp_path / "a", steps=6)
    train(_cfg(), data, tmp_path / "b", steps=3)
    # On resume the stored config wins over the one passed in, and config.json says so.
    resumed = train(_cfg(lr=5e-3), data, tmp_path / "b", steps=6, resume=True)
    assert resumed.step == straight.step == 6
    assert json.loads((tmp_path / "b" / "config.json").read_text())["train"]["lr"] == _cfg().train.lr
    for (name, a), (_, b) in zip(straight.model.state_dict().items(), resumed.model.state_dict().items()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5, msg=name)
    for (name, a), (_, b) in zip(straight.ema.state_dict().items(), resumed.ema.state_dict().items()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5, msg=name)
    log_a, log_b = _log(tmp_path / "a" / "log.jsonl"), _log(tmp_path / "b" / "log.jsonl")
    assert [r["step"] for r in log_b] == [1, 2, 3, 4, 5, 6]
    for ra, rb in zip(log_a, log_b):
        assert abs(ra["loss"] - rb["loss"]) < 1e-5  # same windows, timesteps, noise and dropout flags
    cfg, _, meta = load_weights(tmp_path / "b" / "weights.safetensors")
    assert meta["train_steps"] == "6" and meta["samples_seen"] == "24" and cfg == _cfg()


def test_extra_ema_decays_are_written_kept_and_resumed(tmp_path) -> None:
    """ema_extra keeps one more EMA per decay, in its own weights file and in the training state."""
    data = image_folder(tmp_path / "d")
    cfg = _cfg(ema_extra=(0.05,))  # below every warm-up decay: the extra EMA follows the model closely
    straight = train(cfg, data, tmp_path / "a", steps=6)
    train(cfg, data, tmp_path / "b", steps=3)
    resumed = train(cfg, data, tmp_path / "b", steps=6, resume=True)
    fast = resumed.extra[0.05]
    for (name, a), (_, b) in zip(straight.extra[0.05].state_dict().items(), fast.state_dict().items()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5, msg=name)
    _, state, meta = load_weights(tmp_path / "b" / "weights-ema0.05.safetensors")
    assert meta["ema_decay"] == "0.05" and meta["train_steps"] == "6"
    assert load_weights(tmp_path / "b" / "weights.safetensors")[2]["ema_decay"] == f"{cfg.train.ema_decay:g}"
    for name, p in trainable(resumed.model):
        torch.testing.assert_close(state[name].float(), fast.get_parameter(name).detach().half().float(), msg=name)

    def gap(ema: torch.nn.Module) -> float:
        return sum(float((ema.get_parameter(n) - p).detach().abs().sum()) for n, p in trainable(resumed.model))

    assert 0 < gap(fast) < gap(resumed.ema)  # a different average than the main EMA's, nearer the model


def test_after_init_the_extra_emas_skip_the_warm_up(tmp_path) -> None:
    """From scratch a slow extra EMA is capped by the warm-up like the main one (the same average in a short
    run); after --init it starts at the init's weights and keeps its own, slower average."""
    data = image_folder(tmp_path / "d")
    cfg = _cfg(ema_extra=(0.95,))  # tiny's main decay 0.9; the warm-up caps both below 0.5 for 8 steps
    scratch = train(cfg, data, tmp_path / "a", steps=4)
    for name, _ in trainable(scratch.model):
        assert torch.equal(scratch.ema.get_parameter(name), scratch.extra[0.95].get_parameter(name)), name
    tuned = train(cfg, data, tmp_path / "b", steps=4, init=tmp_path / "a" / "weights.safetensors")
    _, init, _ = load_weights(tmp_path / "a" / "weights.safetensors")

    def gap(ema: torch.nn.Module) -> float:
        return sum(float((ema.get_parameter(n) - init[n].float()).abs().sum()) for n, _ in trainable(tuned.model))

    assert 0 < gap(tuned.extra[0.95]) < gap(tuned.ema)  # 0.95 ** 4 of the init still in it
    info = json.loads((tmp_path / "b" / "state" / "state.json").read_text())
    assert info["extra_warmup"] is False  # and --resume keeps it so


@pytest.mark.parametrize("extra", [(0.9,), (1.0,), (0.5, 0.5)])
def test_ema_decays_must_be_distinct_and_below_one(extra) -> None:
    with pytest.raises(ValueError, match="EMA decays"):
        _cfg(ema_extra=extra)  # tiny's ema_decay is 0.9


def test_minutes_budget_stops_and_saves(tmp_path) -> None:
    result = train(_cfg(), image_folder(tmp_path / "d"), tmp_path / "r", steps=10**9, minutes=0.02)
    assert 0 < result.step < 10**9 and (tmp_path / "r" / "state" / "state.json").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world: int, port: int, data: str, out: str, result_dir: str) -> None:
    os.environ.update(
        RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
    )
    torch.set_num_threads(1)
    res = train(_cfg(), data, out, steps=3, device="cpu")
    torch.save({k: v.clone() for k, v in res.model.state_dict().items()}, f"{result_dir}/rank{rank}.pt")


@pytest.mark.timeout(300)
def test_two_process_gloo_ddp_keeps_replicas_identical(tmp_path) -> None:
    data = image_folder(tmp_path / "d")
    mp.spawn(_ddp_worker, args=(2, _free_port(), str(data), str(tmp_path / "run"), str(tmp_path)), nprocs=2)
    a = torch.load(tmp_path / "rank0.pt", weights_only=True)
    b = torch.load(tmp_path / "rank1.pt", weights_only=True)
    torch.manual_seed(0)
    init = PatchDMModel(_cfg()).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], init[k]) for k in a if k.startswith("unet."))
    assert (tmp_path / "run" / "weights.safetensors").exists()
    assert len((tmp_path / "run" / "log.jsonl").read_text().splitlines()) == 3  # only rank 0 writes


def test_v_prediction_objective_targets_v(tmp_path) -> None:
    """With prediction v, a network that outputs the true v has zero loss (and eps mode targets the noise)."""
    cfg = _cfg()
    cfg = cfg.replace(diffusion=dataclasses.replace(cfg.diffusion, prediction="v"))
    model = PatchDMModel(cfg)
    ds = ImageFolderWindows(image_folder(tmp_path / "d"), cfg.train.image_size, cfg.patch_size, cfg.encoder.view_size)
    gen = torch.Generator().manual_seed(0)
    batch, noise = ds.sample(3, gen), torch.randn(3, 3, 32, 32, generator=gen)
    t, on = torch.tensor([100, 500, 900]), torch.ones(3, dtype=torch.bool)
    schedule = Schedule.linear()
    v = schedule.v_target(batch.x0, t, noise)

    class Oracle(torch.nn.Module):
        cfg = model.unet.cfg

        def forward(self, x, t, grid, z, keep_z, keep_pos, origin, return_unshifted=False):
            from patchdm_core.model.collage import to_patches
            from patchdm_core.model.unet import UNetOut

            return UNetOut(to_patches(v[..., 8:24, 8:24], 16), to_patches(v, 16))

    objective = Objective(model, schedule)
    objective.unet = Oracle()
    loss, _, _ = objective(batch, t, noise, on, on)
    assert loss.item() < 1e-10
    objective.prediction = "eps"
    assert objective(batch, t, noise, on, on)[0].item() > 0.1


def test_resume_from_another_device_kinds_random_stream_starts_a_fresh_one(tmp_path, capsys) -> None:
    """A state saved on a GPU (Philox: 16 bytes of generator state) resumed on a CPU (Mersenne Twister)."""
    from patchdm_core.training.state import load_state, save_state

    data = image_folder(tmp_path / "d")
    train(_cfg(), data, tmp_path / "r", steps=2)
    tensors, info = load_state(tmp_path / "r" / "state")
    tensors["rng.gen"] = torch.zeros(16, dtype=torch.uint8)
    save_state(tmp_path / "r" / "state", tensors, info)
    resumed = train(_cfg(), data, tmp_path / "r", steps=4, resume=True)
    assert resumed.step == 4
    assert "random stream is from another device kind" in capsys.readouterr().out


def test_a_3x3_window_supervises_the_borders_between_collaged_cells(tmp_path) -> None:
    cfg = _cfg(window=3, offsets="grid")
    model = PatchDMModel(cfg)
    ds = ImageFolderWindows(image_folder(tmp_path / "d"), cfg.train.image_size, cfg.patch_size, cfg.encoder.view_size)
    gen = torch.Generator().manual_seed(0)
    batch = ds.sample(2, gen, window=3)
    noise, t, on = torch.randn(batch.x0.shape, generator=gen), torch.tensor([300, 700]), torch.ones(2, dtype=bool)
    predicted = {"eps": noise.clone()}

    class Oracle(torch.nn.Module):
        cfg = model.unet.cfg

        def forward(self, x, t, grid, z, keep_z, keep_pos, origin, return_unshifted=False):
            from patchdm_core.model.collage import to_patches
            from patchdm_core.model.unet import UNetOut

            assert tuple(grid) == (3, 3)
            eps = predicted["eps"]
            return UNetOut(to_patches(eps[..., 8:40, 8:40], 16), to_patches(eps, 16))

    objective = Objective(model, Schedule.linear())
    objective.unet = Oracle()
    assert objective(batch, t, noise, on, on)[0].item() < 1e-10  # all 2x2 collaged cells are compared
    predicted["eps"][..., 23:25, 8:40] += 1.0  # only the border between the upper and lower collaged cells
    _, l_shift, l_plain = objective(batch, t, noise, on, on)
    assert l_shift.item() > 0.01 and l_plain.item() > 0  # the seam inference creates is in the loss


def test_min_snr_weights_and_the_paper_objective_unchanged(tmp_path) -> None:
    cfg = _cfg()
    model = PatchDMModel(cfg)
    t = torch.tensor([0, 100, 500, 999])
    objective = Objective(model, Schedule.linear())
    assert objective.weights(t) is None  # gamma 0: the paper's plain MSE
    objective.gamma = 5.0
    a = Schedule.linear().alpha_bar(t, t.float()).float()
    snr = a / (1 - a)
    torch.testing.assert_close(objective.weights(t), snr.clamp(max=5) / snr)  # eps: min(SNR, 5) / SNR
    objective.prediction = "v"
    torch.testing.assert_close(objective.weights(t), snr.clamp(max=5) / (snr + 1))
    assert objective.weights(t)[0] < 0.01 and objective.weights(t)[-1] > 0.99 * snr[-1] / (snr[-1] + 1)
    # window 2 on the grid with gamma 0 is the loss as the paper (and this project before) wrote it
    objective.gamma, objective.prediction = 0.0, "eps"
    ds = ImageFolderWindows(image_folder(tmp_path / "d"), cfg.train.image_size, cfg.patch_size, cfg.encoder.view_size)
    gen = torch.Generator().manual_seed(0)
    batch, noise = ds.sample(3, gen), torch.randn(3, 3, 32, 32, generator=gen)
    on = torch.ones(3, dtype=torch.bool)
    torch.manual_seed(0)
    loss, l_shift, l_plain = objective(batch, t[:3], noise, on, on)
    torch.manual_seed(0)
    from patchdm_core.model.collage import Grid, from_patches, to_patches

    x_t = Schedule.linear().q_sample(batch.x0, t[:3], noise) * batch.mask
    out = model.unet(to_patches(x_t, 16), t[:3], Grid(2, 2), model.encoder(batch.view), on, on, batch.origin, True)
    want_shift = torch.nn.functional.mse_loss(out.shifted, noise[..., 8:24, 8:24])
    plain = from_patches(out.unshifted, Grid(2, 2))
    want_plain = ((plain - noise) ** 2 * batch.mask).sum() / (batch.mask.sum() * 3)
    torch.testing.assert_close(l_shift, want_shift.detach())
    torch.testing.assert_close(l_plain, want_plain.detach())


def test_train_command_takes_the_seam_aware_options(tmp_path) -> None:
    from patchdm_core.cli.main import main

    data, out = image_folder(tmp_path / "d"), tmp_path / "run"
    args = ["train", "--config", "tiny", "--data", str(data), "--out", str(out), "--steps", "2", "--batch-size", "2"]
    args += ["--window", "3", "--offsets", "pixel", "--min-snr-gamma", "5", "--sample-every", "0"]
    assert main(args) == 0
    trained = json.loads((out / "config.json").read_text())["train"]
    assert (trained["window"], trained["offsets"], trained["min_snr_gamma"]) == (3, "pixel", 5.0)
    assert load_weights(out / "weights.safetensors")[0].train.window == 3
    assert main([*args[:-6], "--window", "5"]) == 2  # out of range: one error line


def test_a_low_noise_fine_tune_with_a_frozen_encoder(tmp_path) -> None:
    """--t-max draws only low timesteps; --freeze-encoder leaves the encoder (so the prior's codes) as it was."""
    from safetensors.torch import save_file

    from patchdm_core.cli.main import main

    t, _, _ = draw_inputs(_cfg(t_min=10, t_max=50), 5000, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert t.min() == 10 and t.max() == 49
    with pytest.raises(ValueError, match="t_max"):
        _cfg(t_min=50, t_max=50)
    data, first, second = image_folder(tmp_path / "d"), tmp_path / "a", tmp_path / "b"
    base = ["train", "--config", "tiny", "--data", str(data), "--batch-size", "2", "--sample-every", "0"]
    assert main([*base, "--out", str(first), "--steps", "1"]) == 0
    init = first / "weights.safetensors"
    _, before, meta = load_weights(init)
    save_file(before, init, metadata={**meta, "latent_min_luminance": "0.2"})  # as if a prior were trained
    args = [*base, "--out", str(second), "--steps", "3", "--init", str(init), "--lr", "1e-2", "--ema-decay", "0"]
    assert main([*args, "--t-max", "200", "--freeze-encoder"]) == 0
    cfg, after, meta = load_weights(second / "weights.safetensors")
    assert cfg.train.t_max == 200 and cfg.train.freeze_encoder
    assert meta["latent_min_luminance"] == "0.2"  # the prior still fits the encoder: its description stays
    enc = [k for k in before if k.startswith("encoder.")]
    assert enc and all(torch.equal(before[k], after[k]) for k in enc)
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("unet."))
