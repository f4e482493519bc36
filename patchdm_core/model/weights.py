"""Weights files: safetensors (fp16 by default) with the JSON config and a format tag in the metadata.

Every failure to read one (missing, truncated, not safetensors, another format, a config that does
not match the tensors) raises CheckpointError with one clear line, never a deep torch traceback.
The training state (optimizer, step, RNG, non-EMA weights) lives apart from it (training/state.py).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch import Tensor, nn

from ..runtime.images import atomic
from .config import PatchDMConfig

FORMAT = "patchdm/1"


class CheckpointError(Exception):
    """A weights file that cannot be used, with a message fit for the user."""


def save_weights(
    path: str | Path,
    model: nn.Module,
    cfg: PatchDMConfig,
    *,
    dtype: torch.dtype = torch.float16,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write model.state_dict() (floats cast to `dtype`) atomically with the config in the metadata."""
    meta = {"format": FORMAT, "config": cfg.to_json(), **(metadata or {})}
    return write_safetensors(path, model, meta, dtype)


def write_safetensors(path: str | Path, model: nn.Module, meta: dict[str, str], dtype: torch.dtype) -> Path:
    """model.state_dict() (floats cast to `dtype`) to a safetensors file with `meta`, atomically (a temporary
    file beside it, renamed over it: a reader never sees half a file)."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        k: (v.to(dtype) if v.is_floating_point() else v).detach().cpu().contiguous()
        for k, v in model.state_dict().items()
    }
    tmp = path.with_name(path.name + ".tmp")
    with atomic(path, tmp):
        save_file(state, str(tmp), metadata=meta)
        tmp.chmod(0o644)
        tmp.replace(path)
    return path


def load_weights(path: str | Path) -> tuple[PatchDMConfig, dict[str, Tensor], dict[str, str]]:
    """Read (config, state dict, metadata) from a weights file, or raise CheckpointError."""
    from safetensors import safe_open

    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"weights file not found: {path}")
    if not path.is_file():
        raise CheckpointError(f"not a file: {path}")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # safetensors raises several types for broken headers and short files
        raise CheckpointError(
            f"{path.name} is not a readable safetensors file (truncated or another format): "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(
            f"{path.name} is a safetensors file but not a Patch-DM weights file "
            f"(format tag {meta.get('format')!r}, expected {FORMAT!r})"
        )
    try:
        cfg = PatchDMConfig.from_json(meta["config"])
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path.name} has a broken config in its metadata: {exc}") from None
    for key, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{path.name} is damaged: its tensor {key} holds NaN or infinite values")
    return cfg, state, meta


def set_sampling_defaults(path: str | Path, **fields: object) -> PatchDMConfig:
    """Rewrite the sampling defaults (SamplingConfig fields) in a weights file's metadata, atomically.

    The tensors are copied as stored (same dtype, same bytes); only the config JSON changes."""
    import dataclasses

    from safetensors import safe_open
    from safetensors.torch import save_file

    cfg, _, meta = load_weights(path)
    try:
        cfg = cfg.replace(sampling=dataclasses.replace(cfg.sampling, **fields))  # SamplingConfig checks values
    except TypeError as exc:
        raise ValueError(f"not a sampling setting: {exc}") from None
    path = Path(path)
    with safe_open(str(path), framework="pt", device="cpu") as f:
        state = {k: f.get_tensor(k) for k in f.keys()}
    tmp = path.with_name(path.name + ".tmp")
    with atomic(path, tmp):
        save_file(state, str(tmp), metadata={**meta, "config": cfg.to_json()})
        tmp.chmod(0o644)
        tmp.replace(path)
    return cfg


def load_into(model: nn.Module, state: dict[str, Tensor], name: str) -> None:
    """Copy tensors into a model built from the file's config; any mismatch is one clear error."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    bad = [k for k in own if k in state and own[k].shape != state[k].shape]
    if missing or extra or bad:
        detail = (
            f"missing {missing[:3]}"
            if missing
            else f"unexpected {extra[:3]}"
            if extra
            else f"shape of {bad[0]} is {tuple(state[bad[0]].shape)}, expected {tuple(own[bad[0]].shape)}"
        )
        raise CheckpointError(f"{name} does not match its own config: {detail}")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})


def file_hash(path: str | Path) -> str:
    """First 10 hex digits of the file's sha256 (the A1111 'Model hash')."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:10]


def describe(meta: dict[str, str]) -> str:
    """One line about a weights file's metadata (for logs)."""
    try:
        cfg = json.loads(meta.get("config", "{}"))
    except ValueError:
        cfg = None
    cfg = cfg if isinstance(cfg, dict) else {}
    return f"{cfg.get('name', '?')} ({meta.get('format')}, trained {meta.get('train_steps', '?')} steps)"
