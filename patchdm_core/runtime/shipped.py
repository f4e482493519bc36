"""Where the shipped demo model is: the checkout's weights/ folder (README, docs and tests name those paths),
else the copy an installed wheel carries as package data (pyproject maps weights/ to patchdm_core/weights/).

The weights file, its layout model and its layout bank lie side by side in both places, so whatever finds
one beside the weights file (composition/sources.py) finds the others.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

NAME = "patchdm-demo.safetensors"
CHECKOUT = Path(__file__).resolve().parents[2] / "weights"  # the repository's weights/ folder
PACKAGE_DATA = "weights"  # the folder inside the installed patchdm_core that holds the same files


def shipped_weights(name: str = NAME) -> Path:
    """The shipped weights file: the checkout's when there is one, else the installed package's (the checkout's
    path when neither exists, so that a 'not found' message names the place README gives)."""
    checkout = CHECKOUT / name
    if checkout.is_file():
        return checkout
    packaged = resources.files("patchdm_core").joinpath(PACKAGE_DATA, name)
    if isinstance(packaged, Path) and packaged.is_file():  # an installed wheel is a folder, never a zip
        return packaged
    return checkout
