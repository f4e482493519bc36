"""The outputs folder: every finished picture saved atomically, uniquely named, with its parameters."""

from __future__ import annotations

import logging
import re
import secrets
import stat
import time
from collections.abc import Mapping
from pathlib import Path

from PIL import Image

from patchdm_core.runtime.images import save_png, stale_temporaries

log = logging.getLogger("patchdm.app")


class History:
    """Finished pictures under one folder, newest first."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.cleaned = self.clean_stale()

    def clean_stale(self) -> int:
        """Remove the temporary files of writes that never finished (their process was killed); only
        save_png's own `.tmp-<pid>-*.png` whose writer is gone or that are an hour old. Returns the count."""
        removed = 0
        for f in stale_temporaries(self.root):
            f.unlink(missing_ok=True)
            removed += 1
        if removed:
            log.warning("removed %d unfinished temporary file(s) from %s", removed, self.root)
        return removed

    def save(self, img: Image.Image, params: Mapping[str, object], kind: str, seed: int) -> Path:
        """Write img as `<time>-<kind>-<seed>-<random>.png` with the A1111 `parameters` chunk."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        while True:
            path = self.root / f"{stamp}-{kind}-{seed}-{secrets.token_hex(3)}.png"
            if not path.exists():
                return save_png(img, path, params)

    def delete(self, path: str | Path) -> Path | None:
        """Move a listed picture into deleted/ (out of the History, kept on disk); its new path, or None when
        this folder does not list it."""
        path = Path(path)
        if not self.serves(path) or path.parent != self.root:
            return None
        target = self.root / "deleted" / path.name
        target.parent.mkdir(exist_ok=True)
        return path.replace(target)

    def items(self, limit: int = 48) -> list[Path]:
        """Saved pictures, newest first: regular .png files of this folder only (not dotfiles and temporary
        files, not symlinks someone placed here, not a picture deleted while this lists them)."""
        found = []
        for f in self.root.glob("*.png"):
            if f.name.startswith(".") or f.is_symlink():
                continue
            try:
                st = f.stat()
            except OSError:  # deleted meanwhile
                continue
            if stat.S_ISREG(st.st_mode):
                found.append((st.st_mtime_ns, f.name, f))
        found.sort(reverse=True)
        return [f for *_, f in found[:limit]]

    def serves(self, path: str | Path) -> bool:
        """Whether the server may hand out `path`: a picture this folder lists, or a span's ZIP (spans/)."""
        path = Path(path).absolute()
        if path.is_symlink() or path.name.startswith(".") or not path.is_file():
            return False
        if path.parent == self.root:
            return path.suffix == ".png"
        return path.parent == self.root / "spans" and path.suffix == ".zip"

    def gallery(self, limit: int = 48, kind: str = "", text: str = "") -> list[tuple[str, str]]:
        """(path, caption) pairs for a gallery, newest first (Gradio hashes every file it serves, so the
        gallery shows the latest `limit`; older pictures stay in the folder), of one kind (generate, span, ...)
        and whose parameters hold `text`, when given."""
        found = self.items(limit if not (kind or text) else 100_000)
        if kind:
            found = [f for f in found if kind_of(f) == kind]
        if text:
            needle = text.strip().lower()
            found = [f for f in found if needle in f"{caption(f)} {read_parameters(f)}".lower()]
        return [(str(f), caption(f)) for f in found[:limit]]

    def recent_sizes(self, n: int = 3, look: int = 12) -> list[tuple[int, int]]:
        """The distinct sizes (W, H) of the newest pictures (their `Size` parameter), newest first."""
        sizes: list[tuple[int, int]] = []
        for f in self.items(look):
            match = re.search(r"(?:^|, )Size: (\d+)x(\d+)", read_parameters(f))
            if match and (size := (int(match[1]), int(match[2]))) not in sizes:
                sizes.append(size)
        return sizes[:n]


def kind_of(path: str | Path) -> str:
    """The job that made a history picture (generate, span, inpaint, ...), from its name ('' if not ours)."""
    parts = Path(path).stem.split("-")
    return parts[2] if len(parts) >= 5 else ""


def caption(path: Path) -> str:
    """'generate · seed 42' from a history file name."""
    parts = path.stem.split("-")
    if len(parts) >= 5:
        return f"{parts[2]} · seed {parts[3]}"
    return path.stem


def read_parameters(path: str | Path | None) -> str:
    """The `parameters` text chunk of a PNG ('' when there is none or the file is unreadable)."""
    if not path:
        return ""
    try:
        with Image.open(path) as img:
            return str(getattr(img, "text", {}).get("parameters", ""))
    except OSError:
        return ""
