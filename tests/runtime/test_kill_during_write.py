"""A process killed in the middle of a PNG write leaves no half-written picture behind: the final name is
never created, and the next start removes the temporary file (only ours: save_png's prefix and the pid
of a writer that is gone)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from app.shared.history import History

WRITER = """
import sys
import numpy as np
from PIL import Image
from patchdm_core.runtime.images import save_png
big = Image.fromarray(np.random.default_rng(0).integers(0, 256, (6000, 6000, 3), dtype=np.uint8))
save_png(big, sys.argv[1], {"Steps": 1})
"""


def test_sigkill_during_a_write_then_restart_leaves_only_whole_pictures(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    history = History(outputs)
    whole = history.save(Image.new("RGB", (64, 32), (10, 20, 30)), {"Steps": 1}, "generate", 1)
    target = outputs / "big.png"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], cwd=Path(__file__).resolve().parents[2])
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".tmp-") and p.stat().st_size > 0 for p in outputs.iterdir()):
        assert proc.poll() is None, "the writer finished before it could be killed"
        assert time.monotonic() < deadline, "no temporary file appeared"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    leftovers = [p for p in outputs.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers and not target.exists()  # killed mid-write: a temporary file, no final picture
    restarted = History(outputs)  # what the app does at start
    assert restarted.cleaned == len(leftovers)
    assert sorted(p.name for p in outputs.iterdir()) == [whole.name]
    assert restarted.items() == [whole]
    with Image.open(whole) as img:
        img.load()


def test_a_live_writers_temporary_file_is_left_alone(tmp_path: Path) -> None:
    live = tmp_path / f".tmp-{os.getpid()}-abc.png"
    live.write_bytes(b"in progress")
    unknown = tmp_path / ".tmp-k2x9q1.png"  # no pid (an older version's name): only its age tells
    unknown.write_bytes(b"maybe in progress")
    dead = tmp_path / ".tmp-999999999-xyz.png"  # a pid that cannot exist
    dead.write_bytes(b"orphan")
    assert History(tmp_path).cleaned == 1
    assert live.exists() and unknown.exists() and not dead.exists()
    hour_ago = time.time() - 3700
    os.utime(unknown, (hour_ago, hour_ago))
    assert History(tmp_path).cleaned == 1 and not unknown.exists() and live.exists()
