"""Which device the network runs on when the user does not say: cuda > mps > cpu."""

from __future__ import annotations

import torch


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """An explicit device, or the best available: cuda > mps > cpu."""
    if device is not None and str(device) != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
