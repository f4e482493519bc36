"""Speed levers change how a training step runs, never what it computes: the same losses and weights with
and without each lever that runs on the CPU (the CUDA-only ones: bench/gpu_checks.py, marker `gpu`)."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch

from patchdm_core import tiny
from patchdm_core.cli.main import main as cli
from patchdm_core.runtime.precision import PRECISION_ENV
from patchdm_core.training import speed as speed_module
from patchdm_core.training import state as state_module
from patchdm_core.training.loop import train
from patchdm_core.training.speed import Speed, scaled_lr
from tests.helpers import image_folder


def _cfg():
    cfg = tiny()
    return cfg.replace(train=dataclasses.replace(cfg.train, batch_size=4, log_every=1, ema_decay=0.5))


def _run(tmp_path, name: str, speed: Speed, steps: int = 3):
    data = image_folder(tmp_path / "data")
    result = train(_cfg(), data, tmp_path / name, steps=steps, device="cpu", speed=speed)
    losses = [json.loads(line)["loss"] for line in (tmp_path / name / "log.jsonl").read_text().splitlines()]
    return result, losses


@pytest.fixture(params=["fp32", "bf16"])
def precision(request, monkeypatch) -> str:
    """Each lever is checked in both precisions a CPU trains in, whatever this CPU picks by itself (training
    runs under bf16 autocast where the CPU has native bf16, in fp32 elsewhere: CI lands on both kinds)."""
    monkeypatch.setenv(PRECISION_ENV, request.param)
    return request.param


def _same_training(a, b, losses_a, losses_b, precision: str) -> None:
    assert len(losses_a) == len(losses_b) == 3
    if precision == "fp32":  # a lever changes the order of fp32 sums at most: equal to float32 rounding
        assert losses_a == pytest.approx(losses_b, rel=1e-5)
        for (name, x), y in zip(a.ema.state_dict().items(), b.ema.state_dict().values()):
            torch.testing.assert_close(x, y, atol=1e-6, rtol=1e-5, msg=lambda m, n=name: f"{n}: {m}")
        return
    # Under bf16 autocast another memory layout picks other oneDNN kernels, which round to bf16 (8 bits of
    # mantissa, 2^-8 = 0.4% per product) at other places, so the runs agree only as far as bf16 allows:
    # - a loss is a mean over many bf16 products whose rounding errors mostly cancel: 1% covers it (a wrong
    #   layout, mixing channels, moves the loss by tens of percent);
    # - AdamW normalises every update to at most about lr per element (|m_hat| / sqrt(v_hat) <= 1 for the
    #   first steps), so a rounding that flips the sign of a near-zero gradient moves a weight by up to 2 lr
    #   per step and no more; the EMA is a convex mix of the weights, so 2 lr x steps bounds it too. Most
    #   weights must still agree to float32 rounding: only gradients near zero can flip.
    assert losses_a == pytest.approx(losses_b, rel=1e-2)
    bound, moved, total = 2 * _cfg().train.lr * len(losses_a), 0, 0
    for (name, x), y in zip(a.ema.state_dict().items(), b.ema.state_dict().values()):
        diff = (x.float() - y.float()).abs()
        assert float(diff.max()) <= bound, f"{name}: {float(diff.max()):.3g} over AdamW's bound {bound:.3g}"
        moved, total = moved + int((diff > 1e-6 + 1e-5 * y.float().abs()).sum()), total + diff.numel()
    assert moved <= 0.05 * total, f"{moved} of {total} weights differ beyond float32 rounding"


def test_levers_parse_print_and_refuse_unknown_names() -> None:
    assert Speed.parse("channels-last,compile") == Speed(channels_last=True, compile=True)
    assert Speed.parse("") == Speed.parse("none") == Speed()
    assert str(Speed.parse("compile, channels-last")) == "channels-last,compile"
    assert str(Speed()) == "none"
    with pytest.raises(ValueError, match="unknown speed lever 'fast'"):
        Speed.parse("channels-last,fast")
    with pytest.raises(ValueError, match="cuda-graphs needs a CUDA device"):
        Speed(cuda_graphs=True).check(torch.device("cpu"))


def test_channels_last_trains_the_same_model(tmp_path, precision) -> None:
    plain, plain_losses = _run(tmp_path, "plain", Speed())
    nhwc, nhwc_losses = _run(tmp_path, "nhwc", Speed(channels_last=True))
    assert nhwc.model.unet.stem.weight.is_contiguous(memory_format=torch.channels_last)
    assert not plain.model.unet.stem.weight.is_contiguous(memory_format=torch.channels_last)
    _same_training(plain, nhwc, plain_losses, nhwc_losses, precision)
    assert (tmp_path / "nhwc" / "weights.safetensors").is_file()  # NHWC tensors are written contiguous


def test_a_channels_last_run_resumes_exactly_with_its_moments_in_the_weights_layout(tmp_path) -> None:
    data, nhwc = image_folder(tmp_path / "data"), Speed(channels_last=True)
    straight = train(_cfg(), data, tmp_path / "a", steps=4, device="cpu", speed=nhwc)
    train(_cfg(), data, tmp_path / "b", steps=2, device="cpu", speed=nhwc)
    resumed = train(_cfg(), data, tmp_path / "b", steps=4, device="cpu", speed=nhwc, resume=True)
    for (name, x), y in zip(straight.ema.state_dict().items(), resumed.ema.state_dict().values()):
        torch.testing.assert_close(x, y, atol=1e-6, rtol=1e-5, msg=lambda m, n=name: f"{n}: {m}")
    opt = torch.optim.AdamW(resumed.model.parameters())  # the loop's own is gone: check the rule on a copy
    for p in resumed.model.parameters():
        opt.state[p] = {"exp_avg": p.detach().contiguous().clone(), "step": torch.tensor(1.0)}
    state_module._moments_like_params(opt)
    conv = resumed.model.unet.stem.weight
    assert opt.state[conv]["exp_avg"].stride() == conv.stride() and torch.equal(opt.state[conv]["exp_avg"], conv)


def test_a_compiled_step_trains_the_same_model(tmp_path, monkeypatch, precision) -> None:
    # the same dynamo + AOTAutograd capture of forward and backward as on a GPU, run by eager kernels:
    # inductor's C++ build of this graph takes about three minutes on two cores (the GPU check uses it)
    monkeypatch.setattr(speed_module, "COMPILE_BACKEND", "aot_eager")
    torch._dynamo.reset()
    plain, plain_losses = _run(tmp_path, "plain", Speed())
    fast, fast_losses = _run(tmp_path, "compiled", Speed(channels_last=True, compile=True))
    _same_training(plain, fast, plain_losses, fast_losses, precision)
    torch._dynamo.reset()


def test_a_cuda_only_lever_on_the_cpu_is_refused_before_training(tmp_path) -> None:
    with pytest.raises(ValueError, match="autotune needs a CUDA device"):
        train(_cfg(), image_folder(tmp_path / "d"), tmp_path / "run", steps=1, device="cpu", speed=Speed(autotune=True))
    assert not (tmp_path / "run" / "weights.safetensors").exists()


def test_the_time_limit_starts_after_the_warm_up_steps(tmp_path) -> None:
    data = image_folder(tmp_path / "data")
    cold = train(_cfg(), data, tmp_path / "a", steps=50, minutes=1e-6, device="cpu")
    warm = train(_cfg(), data, tmp_path / "b", steps=50, minutes=1e-6, device="cpu", warmup_steps=4)
    assert cold.step <= 1 and warm.step == 5  # the 4 warm-up steps, then one timed step over the limit


def test_the_sqrt_rule_scales_the_learning_rate_with_the_global_batch() -> None:
    assert scaled_lr(2e-4, 256, 64, "sqrt") == pytest.approx(4e-4)
    assert scaled_lr(2e-4, 16, 64, "sqrt") == pytest.approx(1e-4)
    assert scaled_lr(2e-4, 256, 64, "none") == 2e-4
    with pytest.raises(ValueError, match="unknown learning-rate scaling"):
        scaled_lr(2e-4, 256, 64, "linear")


def test_train_applies_the_rule_unless_lr_is_given(tmp_path, capsys) -> None:
    data = image_folder(tmp_path / "data")
    base = tiny().train
    batch = ["--batch-size", str(4 * base.batch_size)]
    common = ["train", "--data", str(data), "--config", "tiny", "--steps", "1", *batch]
    assert cli([*common, "--out", str(tmp_path / "a"), "--lr-scaling", "sqrt", "--speed", "channels-last"]) == 0
    assert f"scaled by the sqrt rule to the global batch {4 * base.batch_size}" in capsys.readouterr().out
    trained = json.loads((tmp_path / "a" / "config.json").read_text())["train"]
    assert math.isclose(trained["lr"], 2 * base.lr)
    assert cli([*common, "--out", str(tmp_path / "b"), "--lr-scaling", "sqrt", "--lr", "3e-4"]) == 0
    assert json.loads((tmp_path / "b" / "config.json").read_text())["train"]["lr"] == 3e-4
    assert cli([*common, "--out", str(tmp_path / "c")]) == 0  # the default: the config's lr as is, NHWC
    assert json.loads((tmp_path / "c" / "config.json").read_text())["train"]["lr"] == base.lr
    assert "speed levers: channels-last" in capsys.readouterr().out
