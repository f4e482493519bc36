"""The training state: everything --resume needs (weights, EMAs, AdamW moments, step, RNG states) as
safetensors shards of at most ~15 MiB plus state.json, written atomically per folder. No pickle."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import Tensor, nn

from ..model.config import PatchDMConfig
from ..model.weights import FORMAT, CheckpointError, save_weights
from .distributed import Distributed


def ema_file(out: Path, decay: float) -> Path:
    """Where the EMA of an `ema_extra` decay is written: weights-ema0.9995.safetensors."""
    return Path(out) / f"weights-ema{decay:g}.safetensors"


def save_state(folder: str | Path, tensors: dict[str, Tensor], info: dict, *, shard_bytes: int = 15 << 20) -> Path:
    """Write tensors as safetensors shards of at most ~shard_bytes plus state.json; atomic per folder."""
    from safetensors.torch import save_file

    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        for f in tmp.iterdir():
            f.unlink()
    tmp.mkdir(parents=True, exist_ok=True)
    shards: list[dict[str, Tensor]] = [{}]
    size = 0
    for key, value in tensors.items():
        nbytes = value.numel() * value.element_size()
        if shards[-1] and size + nbytes > shard_bytes:
            shards.append({})
            size = 0
        shards[-1][key] = value.detach().cpu().contiguous()
        size += nbytes
    names = []
    for i, shard in enumerate(shards):
        names.append(f"state-{i:05d}.safetensors")
        save_file(shard, str(tmp / names[-1]))
    (tmp / "state.json").write_text(json.dumps({**info, "format": FORMAT + "-state", "shards": names}, indent=1))
    if folder.exists():
        old = folder.with_name(folder.name + ".old")
        folder.replace(old)
        tmp.replace(folder)
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    else:
        tmp.replace(folder)
    return folder


def load_state(folder: str | Path) -> tuple[dict[str, Tensor], dict]:
    """Inverse of save_state, with a clear error for a missing or broken state folder."""
    from safetensors.torch import load_file

    folder = Path(folder)
    meta_path = folder / "state.json"
    if not meta_path.is_file():
        raise CheckpointError(f"no training state to resume in {folder} (state.json missing)")
    try:
        info = json.loads(meta_path.read_text())
        tensors: dict[str, Tensor] = {}
        for name in info["shards"]:
            tensors.update(load_file(str(folder / name)))
    except Exception as exc:
        raise CheckpointError(f"training state in {folder} is unreadable: {str(exc).splitlines()[0]}") from None
    if info.get("format") != FORMAT + "-state":
        raise CheckpointError(f"{folder} is not a Patch-DM training state")
    return tensors, info


def save_run(
    out: Path,
    cfg: PatchDMConfig,
    model: nn.Module,
    ema: nn.Module,
    extra: dict[float, nn.Module],
    opt: torch.optim.Optimizer,
    gen: torch.Generator,
    run: dict,
) -> None:
    """Weights files and training state; `run`: step, seconds, batch (all processes), data, carried
    (metadata kept from the init), extra_warmup."""
    step, carried = run["step"], run["carried"]
    meta = {
        **carried,
        "train_steps": str(step),
        "samples_seen": str(step * run["batch"]),
        "train_seconds": f"{run['seconds']:.0f}",
        "train_data": run["data"],
    }
    save_weights(out / "weights.safetensors", ema, cfg, metadata=meta | {"ema_decay": f"{cfg.train.ema_decay:g}"})
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors |= {f"ema.{k}": v for k, v in ema.state_dict().items()}
    for decay, e in extra.items():
        save_weights(ema_file(out, decay), e, cfg, metadata=meta | {"ema_decay": f"{decay:g}"})
        tensors |= {f"ema{decay:g}.{k}": v for k, v in e.state_dict().items()}
    opt_state = opt.state_dict()
    for i, st in opt_state["state"].items():
        tensors |= {f"opt.{i}.{k}": torch.as_tensor(v) for k, v in st.items()}
    tensors["rng.gen"] = gen.get_state()
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    info = {
        "step": step,
        "seconds": run["seconds"],
        "config": cfg.to_json(),
        "param_groups": opt_state["param_groups"],
        "carried_metadata": carried,
        "extra_warmup": run["extra_warmup"],
    }
    save_state(out / "state", tensors, info)


def _moments_like_params(opt: torch.optim.Optimizer) -> None:
    """Give every optimizer moment its parameter's memory layout. Moments are read back contiguous (NCHW);
    under --speed channels-last the weights are NHWC, and fused AdamW walks a parameter and its moments as
    flat arrays: an NHWC weight beside an NCHW moment would pair the wrong elements, silently."""
    for group in opt.param_groups:
        for p in group["params"]:
            for key, value in opt.state.get(p, {}).items():
                if torch.is_tensor(value) and value.shape == p.shape and value.stride() != p.stride():
                    opt.state[p][key] = torch.empty_like(p, dtype=value.dtype).copy_(value)


def restore_run(
    tensors: dict[str, Tensor],
    info: dict,
    model: nn.Module,
    ema: nn.Module,
    extra: dict[float, nn.Module],
    opt: torch.optim.Optimizer,
    gen: torch.Generator,
    dist: Distributed,
) -> tuple[int, float]:
    def part(prefix: str) -> dict[str, Tensor]:
        return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}

    model.load_state_dict(part("model."))
    ema.load_state_dict(part("ema."))
    for decay, e in extra.items():
        e.load_state_dict(part(f"ema{decay:g}."))
    state: dict[int, dict[str, Tensor]] = {}
    for k, v in part("opt.").items():
        i, name = k.split(".", 1)
        state.setdefault(int(i), {})[name] = v.to(dist.device) if name != "step" else v
    opt.load_state_dict({"state": state, "param_groups": info["param_groups"]})
    _moments_like_params(opt)
    step = int(info["step"])
    if dist.rank == 0 and tensors["rng.gen"].numel() != gen.get_state().numel():
        # a state saved on another device kind (CPU Mersenne Twister vs CUDA Philox): the stream cannot
        # continue, so start a fresh one that still depends on the seed and the step
        print(f"--resume: the saved random stream is from another device kind; a fresh one starts at step {step}")
        gen.manual_seed(gen.initial_seed() + 7919 * step)
    elif dist.rank == 0:
        gen.set_state(tensors["rng.gen"])
        torch.set_rng_state(tensors["rng.torch"])
        if "rng.cuda" in tensors and dist.device.type == "cuda":
            torch.cuda.set_rng_state(tensors["rng.cuda"])
    else:  # other ranks continue on fresh, distinct streams
        gen.manual_seed(gen.initial_seed() + 7919 * step)
    return step, float(info.get("seconds", 0.0))
