"""Launch Patch-DM Studio: `python app.py [--weights FILE] [--device auto] [--host 127.0.0.1] [--port 7860]`.

The app lives in the app/ package (app/main.py starts it); this file stays so that `make run` and a checkout
without installing start it the same way as the installed `patchdm-studio` command.
"""

from __future__ import annotations

import sys

from app.main import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
