"""`python -m app`: start Patch-DM Studio (the same as python app.py and patchdm-studio)."""

from __future__ import annotations

from .main import main

raise SystemExit(main(prog="python -m app"))
