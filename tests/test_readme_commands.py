"""README's command-line examples run as written from a fresh clone: the files they name are the ones the
repository ships (assets/, weights/) or ones an earlier example wrote (outputs/).

Each line runs in a scratch folder laid out like a clone, in the order the README gives, on the tiny config
(its weights stand where the shipped ones do) and at a tiny size: every size, span, extension and box is
first checked as written, then scaled down, and the pictures in assets/ are small copies of the real ones.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

from PIL import Image

from patchdm_core import PatchDM, tiny
from patchdm_core.cli.main import main
from patchdm_core.model.weights import save_weights
from patchdm_core.runtime.screens import parse_span
from patchdm_core.runtime.sizes import parse_size

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"--size": "64x32", "--span": "48x32+0+0,32x16+48+8", "--bezel": "8", "--extend": "0,32,0,0"}
SMALL |= {"--box": "8,8,16,8"}


def commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = re.search(r"^## Command line\n(.*?)(?=^## )", text, re.M | re.S).group(1)
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_the_examples_name_only_shipped_files_or_earlier_outputs() -> None:
    written = set()
    for line in commands():
        for word in shlex.split(line.replace(";", " ; ")):
            if word.startswith(("assets/", "weights/")):
                assert (ROOT / word).is_file(), f"README names {word}, which the repository does not ship"
            elif word.startswith("outputs/") and word.endswith((".png", ".safetensors")):
                reads = re.search(rf"(--image|--weights) {re.escape(word)}", line) or line.startswith("cp ")
                if reads and not line.startswith("cp "):
                    assert word in written, f"{word} is read before any example writes it"
                written.add(word)
    assert len(written) >= 10


def _scratch_clone(tmp: Path) -> None:
    """assets/ (small copies) and weights/ (the tiny model where the demo model ships, the layout bank and
    model) in `tmp`."""
    (tmp / "assets").mkdir()
    for picture in (ROOT / "assets").glob("*.*"):
        if picture.suffix in (".jpg", ".png"):
            img = Image.open(picture)
            img.resize((img.width // 8, img.height // 8)).save(tmp / "assets" / picture.name)
    pipe = PatchDM.random_init(tiny(), device="cpu")
    save_weights(tmp / "weights" / "patchdm-demo.safetensors", pipe.model, pipe.cfg)
    shutil.copy(ROOT / "weights" / "patchdm-demo-layouts.png", tmp / "weights")
    shutil.copy(ROOT / "weights" / "patchdm-demo-layout.safetensors", tmp / "weights")


def test_every_example_runs_as_written(tmp_path, monkeypatch) -> None:
    _scratch_clone(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATCHDM_WEIGHTS", str(tmp_path / "weights" / "patchdm-demo.safetensors"))
    ran = 0
    for line in commands():
        for part in line.split(";"):
            words = shlex.split(part)
            if not words or words[0].startswith("py="):
                continue
            if words[:2] == ["mkdir", "-p"]:
                Path(words[2]).mkdir(parents=True, exist_ok=True)
            elif words[0] == "cp":
                shutil.copy(words[1], words[2])
            else:
                assert words[:3] == ["$py", "-m", "patchdm_core"], part
                argv = words[3:]
                for i, word in enumerate(argv[:-1]):
                    if word in SMALL:
                        {"--size": parse_size, "--span": parse_span}.get(word, str)(argv[i + 1])  # valid as written
                        argv[i + 1] = SMALL[word]
                assert main(argv) == 0, part
                out = argv[argv.index("-o") + 1] if "-o" in argv else None
                assert out is None or Path(out).is_file(), part
                ran += 1
    assert ran >= 14 and Path("outputs/desk-monitor2.png").is_file()
