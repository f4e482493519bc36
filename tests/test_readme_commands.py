"""Every command the README, the docs pages (docs/) and the model card (weights/README.md) show runs as
written from a fresh clone: the files they name are the ones the repository ships (assets/, weights/) or
ones an earlier example on the same page wrote (outputs/).

Each page runs in its own scratch folder laid out like a clone, line by line in the order the page gives,
on the tiny config (its weights stand where the shipped ones do) and at a tiny size: every size, span,
extension and box is first checked as written, then scaled down; training runs a few steps; a `--data`
folder the clone lacks (your pictures, the held-out set) is made of small pictures. Every line of a
```bash block must be one of these kinds, or the test fails:

- `py=...`, `mkdir -p DIR`, `cp A B`: done as written;
- `$py -m patchdm_core ...` (or `.venv/bin/python -m ...`, or `.venv/bin/torchrun ... -m patchdm_core ...`,
  run as one process): run in-process by the command line's own main();
- `.venv/bin/python app.py ...` and `make run ARGS="..."`: the app's flags are parsed and checked and its
  model loaded, as app.py does before it listens (tests/app/ start the server itself);
- `make TARGET`: the Makefile has the target (running make inside the suite would recurse);
- `$py scripts/X.py ...` or `$py bench/X.py ...`: the script exists and defines every flag the line uses
  (they download Debian packages or run for minutes);
- `bench/X.sh ...`: the script exists and is executable.

Pages under docs/experiments/ are records of runs on the prepared data set and are not run. On every page,
every `python -m patchdm_core` command (in a block or in inline code) is parsed by today's parser, so a
flag that was renamed or removed fails here.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
from PIL import Image

from patchdm_core import PatchDM, tiny
from patchdm_core.cli.main import build_parser, main
from patchdm_core.model.weights import save_weights
from patchdm_core.runtime.screens import parse_span
from patchdm_core.runtime.sizes import parse_size

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(
    [ROOT / "README.md", ROOT / "weights" / "README.md", *(ROOT / "docs").rglob("*.md")],
    key=lambda p: str(p.relative_to(ROOT)),
)
RECORDS = ROOT / "docs" / "experiments"  # pages whose commands are parsed, not run
PYTHON = ("$py", ".venv/bin/python", "python", "python3")


def _sizes(text: str) -> None:
    for size in text.split(","):
        parse_size(size)


# flag -> (check of the value as written, the tiny value it runs with)
SMALL = {
    "--size": (parse_size, "64x32"),
    "--span": (parse_span, "48x32+0+0,32x16+48+8"),
    "--bezel": (int, "8"),
    "--extend": (str, "0,32,0,0"),
    "--box": (str, "8,8,16,8"),
    "--sizes": (_sizes, "64x32"),
    "--max-size": (parse_size, "128x64"),
    "--chunk-canvas": (parse_size, "64x32"),
    "--n": (int, "1"),
    "--config": (str, "tiny"),
    "--batch-size": (int, "4"),
    "--seconds": (float, "1"),
    "--repeats": (int, "1"),
}
# what every command of a kind runs with when the page does not say (the tiny model, a few steps)
ADDED = {
    "train": {"--config": "tiny", "--batch-size": "4", "--steps": "2"},
    "train-latent": {"--steps": "5"},
    "train-layout": {"--batch-size": "4", "--steps": "1", "--channels": "8"},
    "bench": {"--config": "tiny", "--repeats": "1", "--chunk-canvas": "64x32"},
    "bench-train": {"--config": "tiny", "--batch-size": "4", "--seconds": "1"},
    "eval": {"--n": "1", "--sizes": "64x32"},
}


def code_blocks(text: str) -> list[str]:
    """The ```bash blocks of a page, in order, unindented."""
    return [
        "\n".join(line[len(m.group(1)) :] for line in m.group(2).splitlines())
        for m in re.finditer(r"^( *)```bash\n(.*?)^\1```", text, re.M | re.S)
    ]


def commands(page: Path) -> list[str]:
    """Every command line of the page's ```bash blocks: continuations joined, comments dropped."""
    lines = []
    for block in code_blocks(page.read_text()):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def inline_commands(page: Path) -> list[str]:
    """Every `python -m patchdm_core ...` of a page, in blocks or in inline code: the words after patchdm_core."""
    text = page.read_text().replace("\\\n", " ")
    spans = [line for block in code_blocks(text) for line in block.splitlines()]
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    spans += [span.replace("\n", " ") for span in re.findall(r"(?<!`)`([^`]+)`(?!`)", prose)]
    found = []
    for span in spans:
        match = re.match(r"\s*(?:\$py|(?:\.venv/bin/)?python3?) -m patchdm_core\s+(.*)", span.split("  #")[0])
        if match and not match.group(1).startswith("<"):
            found.append(match.group(1).strip())
    return found


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else page.name


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


def _picture_folder(folder: Path) -> None:
    """A folder of small pictures in place of your own (or of the held-out set): the example picture, cut
    and mirrored four ways, at 128x64."""
    folder.mkdir(parents=True)
    base = Image.open(ROOT / "assets" / "volna-1024x512.jpg").convert("RGB").resize((256, 128))
    for i, (x, flip) in enumerate([(0, False), (128, False), (0, True), (64, True)]):
        img = base.crop((x, 0, x + 128, 64))
        (img.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if flip else img).save(folder / f"picture-{i}.png")


def _small(argv: list[str]) -> list[str]:
    """The command as run: every SMALL flag's value checked as written, then scaled down; ADDED flags of its
    kind appended where the page leaves them out; a resumed run one step further than the run it resumes."""
    argv = list(argv)
    for i, word in enumerate(argv[:-1]):
        if word in SMALL:
            check, small = SMALL[word]
            check(argv[i + 1])  # valid as written
            argv[i + 1] = small
    for flag, value in ADDED.get(argv[0], {}).items():
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    if "--resume" in argv:
        argv[argv.index("--steps") + 1] = "3"
    return argv


def _run_patchdm(argv: list[str], line: str) -> None:
    for i, word in enumerate(argv[:-1]):
        if word == "--data" and not Path(argv[i + 1]).exists():
            _picture_folder(Path(argv[i + 1]))
    argv = _small(argv)
    assert main(argv) == 0, line
    out = argv[argv.index("-o") + 1] if "-o" in argv else None
    assert out is None or Path(out).is_file(), line


def _run_app(argv: list[str], line: str) -> None:
    from app.main import build_parser as app_parser
    from app.main import check_flags, load_model

    args = app_parser().parse_args(argv)
    check_flags(args)
    pipe, banner = load_model(args.weights, args.device)
    assert pipe is not None and not banner, line


def _script_flags(path: Path) -> set[str]:
    """Every '--flag' string a script's source names (its argparse flags)."""
    tree = ast.parse(path.read_text())
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and str(n.value).startswith("--")}


def run_line(line: str) -> str:
    """Run (or check) one command line in the current folder; returns its kind."""
    kinds = []
    for part in line.split(";"):
        words = shlex.split(part)
        if not words:
            continue
        if words[0].startswith("py="):
            kinds.append("setup")
        elif words[:2] == ["mkdir", "-p"]:
            Path(words[2]).mkdir(parents=True, exist_ok=True)
            kinds.append("setup")
        elif words[0] == "cp":
            shutil.copy(words[1], words[2])
            kinds.append("setup")
        elif words[0] in PYTHON and words[1:3] == ["-m", "patchdm_core"]:
            _run_patchdm(words[3:], line)
            kinds.append("patchdm")
        elif words[0].endswith("torchrun") and "-m" in words:
            at = words.index("-m")
            assert words[at + 1] == "patchdm_core", line
            _run_patchdm(words[at + 2 :], line)
            kinds.append("patchdm")
        elif words[0] in PYTHON and words[1] == "app.py":
            _run_app(words[2:], line)
            kinds.append("app")
        elif words[0] == "make":
            target = words[1]
            assert re.search(rf"^{re.escape(target)}:", (ROOT / "Makefile").read_text(), re.M), line
            args = [w.removeprefix("ARGS=") for w in words[2:] if w.startswith("ARGS=")]
            if target == "run" and args:
                _run_app(shlex.split(args[0]), line)
            kinds.append("make")
        elif words[0] in PYTHON and words[1].startswith(("scripts/", "bench/")) and words[1].endswith(".py"):
            script = ROOT / words[1]
            assert script.is_file(), line
            used = {w.split("=")[0] for w in words[2:] if w.startswith("--")}
            assert used <= _script_flags(script), f"{line}: {sorted(used - _script_flags(script))} not in {script.name}"
            kinds.append("script")
        elif words[0].startswith("bench/") and words[0].endswith(".sh"):
            assert os.access(ROOT / words[0], os.X_OK), line
            kinds.append("script")
        else:
            raise AssertionError(f"a command of a kind this test does not know how to run: {part!r}")
    return ",".join(kinds)


RUN = [p for p in PAGES if not p.is_relative_to(RECORDS) and commands(p)]


def test_the_pages_with_commands_are_the_ones_expected() -> None:
    names = {_page_id(p) for p in RUN}
    assert {"README.md", "weights/README.md", "docs/cli.md", "docs/training.md", "docs/evaluation.md"} <= names
    assert sum(len(commands(p)) for p in RUN) >= 50


def test_readme_starts_with_the_two_commands_and_shows_one_example_per_job() -> None:
    text = (ROOT / "README.md").read_text()
    first = code_blocks(text)[0]
    assert text.index("```bash") < text.index("\n## "), "the two commands come before any section"
    assert [line.split("#")[0].strip() for line in first.splitlines()] == ["make run", "make test"]
    readme = [shlex.split(line) for line in commands(ROOT / "README.md")]
    jobs = {words[3] for words in readme if words[:3] == ["$py", "-m", "patchdm_core"]}
    assert {"generate", "inpaint", "outpaint", "img2img", "upscale", "train"} <= jobs
    assert any("--span" in words for words in readme), "the README shows a span"
    assert len(text.splitlines()) <= 160, "the README is a front door: details go to docs/"


@pytest.mark.parametrize("page", RUN, ids=_page_id)
def test_the_examples_name_only_shipped_files_or_earlier_outputs(page: Path) -> None:
    written = set()
    for line in commands(page):
        for word in shlex.split(line.replace(";", " ; ")):
            word = word.removeprefix("ARGS=")
            if word.startswith(("assets/", "weights/")):
                assert (ROOT / word).is_file(), f"{_page_id(page)} names {word}, which the repository does not ship"
            elif word.startswith("outputs/") and word.endswith((".png", ".safetensors")):
                reads = re.search(rf"(--image|--weights) {re.escape(word)}", line)
                if reads and not line.startswith("cp "):
                    assert word in written, f"{_page_id(page)}: {word} is read before any example writes it"
                written.add(word)


@pytest.mark.parametrize("page", RUN, ids=_page_id)
def test_every_example_runs_as_written(page: Path, tmp_path, monkeypatch) -> None:
    _scratch_clone(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATCHDM_WEIGHTS", str(tmp_path / "weights" / "patchdm-demo.safetensors"))
    kinds = [run_line(line) for line in commands(page)]
    assert kinds
    if page.name == "README.md" and page.parent == ROOT:
        assert kinds.count("patchdm") >= 7 and Path("outputs/desk-monitor2.png").is_file()


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_patchdm_command_parses_with_todays_parser(page: Path) -> None:
    parser = build_parser()
    for command in inline_commands(page):
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                parser.parse_args(shlex.split(command))
        except SystemExit:
            raise AssertionError(f"{_page_id(page)}: `{command}`: {err.getvalue().strip()}") from None


def test_the_checks_can_fail(tmp_path, monkeypatch) -> None:
    """A removed flag fails the parse check, a command of an unknown kind and a make target the Makefile
    lacks fail the run."""
    page = tmp_path / "page.md"
    page.write_text("Run `python -m patchdm_core generate --no-such-flag -o x.png` now.\n")
    with pytest.raises(AssertionError, match="no-such-flag"):
        test_every_patchdm_command_parses_with_todays_parser(page)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AssertionError, match="does not know"):
        run_line("curl https://example.org | sh")
    with pytest.raises(AssertionError):
        run_line("make no-such-target")
    with pytest.raises(argparse.ArgumentTypeError):
        _small(["generate", "--size", "huge", "-o", "x.png"])
