"""The project installs as a Python package: pyproject names every package folder, declares its dependencies as
ranges that hold the pins `make` installs, and the wheel it builds carries the code, the shipped weights and
the two commands. Installed into a fresh virtual environment, outside the checkout, `patchdm generate` paints
with the weights it finds in the installed package and `patchdm-studio` answers --help.

Installing torch (a 5.5 GB CUDA build) into a fresh environment on every run is too slow, so the fresh
environment sees this project's environment through a .pth file: pip then finds the declared dependencies
installed (it does check them: without the .pth the same install fails on them) and installs only the wheel,
from no index at all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SOURCES = ("pyproject.toml", "README.md", "patchdm_core", "app", "weights")  # what the build reads
SHIPPED = ("patchdm-demo.safetensors", "patchdm-demo-layout.safetensors", "patchdm-demo-layouts.png")
TEST_TOOLS = {"pytest", "pytest-timeout", "playwright", "ruff"}


def pins(path: Path) -> dict[str, str]:
    """name -> exact version of every `name==version` line of a requirements file."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            out[canonical(name)] = version.strip()
    return out


def canonical(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def declared() -> dict[str, list[Requirement]]:
    """The runtime dependencies and the test extra of pyproject, parsed."""
    project = PYPROJECT["project"]
    return {
        "runtime": [Requirement(r) for r in project["dependencies"]],
        "test": [Requirement(r) for r in project["optional-dependencies"]["test"]],
    }


def test_pyproject_names_every_package_folder_and_ships_the_weights() -> None:
    folders = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("patchdm_core", "app")
        for init in (ROOT / top).rglob("__init__.py")
    }
    tools = PYPROJECT["tool"]["setuptools"]
    assert set(tools["packages"]) == folders | {"patchdm_core.weights"}, "pyproject's packages against the folders"
    assert tools["package-dir"] == {"patchdm_core.weights": "weights"}
    assert tools["package-data"]["patchdm_core.weights"] == list(SHIPPED)
    for name in SHIPPED:
        assert (ROOT / "weights" / name).is_file(), f"weights/{name} is shipped but not in the checkout"
    scripts = PYPROJECT["project"]["scripts"]
    assert scripts == {"patchdm": "patchdm_core.cli.main:command", "patchdm-studio": "app.main:command"}


def test_dependencies_are_ranges_that_hold_the_pins() -> None:
    """Every dependency is a range holding the exact pin of constraints.txt (never `==`); every pin of
    requirements.txt is declared (test tools in the `test` extra, never among the runtime dependencies)."""
    pinned = pins(ROOT / "constraints.txt")
    wanted = pins(ROOT / "requirements.txt")
    groups = declared()
    for group, reqs in groups.items():
        for req in reqs:
            name = canonical(req.name)
            assert name in pinned, f"{req} ({group}) has no pin in constraints.txt"
            assert not any(s.operator in ("==", "===") for s in req.specifier), f"{req} is a pin, not a range"
            assert req.specifier.contains(pinned[name]), f"{req} does not hold the pin {name}=={pinned[name]}"
            assert wanted.get(name, pinned[name]) == pinned[name], f"{name}: requirements.txt and constraints.txt"
    runtime = {canonical(r.name) for r in groups["runtime"]}
    test = {canonical(r.name) for r in groups["test"]}
    assert TEST_TOOLS <= test and not TEST_TOOLS & runtime, "test tools belong in the test extra only"
    build = {canonical(r) for r in wanted} - runtime - test
    assert build == {"setuptools"}, f"requirements.txt pins {sorted(build)} that pyproject does not declare"
    [backend] = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    assert backend.specifier.contains(wanted["setuptools"]) and pinned["setuptools"] == wanted["setuptools"]


def test_what_a_build_leaves_in_the_checkout_is_ignored_by_git() -> None:
    """`pip install .` builds in the checkout: its build/ and egg-info folders never show as changes."""
    for path in ("build/lib/patchdm_core/__init__.py", "patchdm_studio.egg-info/PKG-INFO", "dist/x.whl"):
        done = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", path], capture_output=True)
        assert done.returncode == 0, f"git does not ignore {path}: add it to .gitignore"


def pip_env() -> dict[str, str]:
    """The environment for pip and the installed commands: no pip configuration (no extra index, find-links
    or constraints of this machine), nothing that puts the checkout or other weights in the way."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PATCHDM_WEIGHTS"):
        env.pop(name, None)
    return env | {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def run(cmd: list[str], cwd: Path, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=pip_env(), capture_output=True, text=True, timeout=600)
    if ok:
        assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def fresh_venv(where: Path) -> tuple[Path, Path]:
    """A new virtual environment without pip (this one's pip installs into it): (its python, its site-packages)."""
    run([sys.executable, "-m", "venv", "--without-pip", str(where)], where.parent)
    python = where / "bin" / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], where.parent)
    return python, Path(purelib.stdout.strip())


@pytest.mark.slow
def test_the_wheel_installs_and_its_commands_run_outside_the_checkout(tmp_path: Path) -> None:
    source, dist, outside = tmp_path / "source", tmp_path / "dist", tmp_path / "elsewhere"
    outside.mkdir()
    source.mkdir()
    for name in SOURCES:  # a copy: setuptools' build/ of an earlier run cannot slip stale files into the wheel
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip"]
    run(pip + ["wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(source)], tmp_path)
    [wheel] = dist.glob("patchdm_studio-*.whl")

    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        info = next(n.rpartition("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = z.read(f"{info}/METADATA").decode()
        entry_points = z.read(f"{info}/entry_points.txt").decode()
    code = {str(p.relative_to(ROOT)) for top in ("patchdm_core", "app") for p in (ROOT / top).rglob("*.py")}
    assert code <= names, f"modules missing from the wheel: {sorted(code - names)[:5]}"
    assert {f"patchdm_core/weights/{n}" for n in SHIPPED} <= names, "the shipped weights are not in the wheel"
    assert "patchdm = patchdm_core.cli.main:command" in entry_points
    assert "patchdm-studio = app.main:command" in entry_points
    requires = {
        str(Requirement(ln.partition(":")[2])) for ln in metadata.splitlines() if ln.startswith("Requires-Dist")
    }
    assert {str(r) for r in declared()["runtime"]} <= requires

    # pip resolves the declared dependencies: with nothing installed and no index, the install fails on them
    bare, _ = fresh_venv(tmp_path / "bare")
    refused = run(pip + ["--python", str(bare), "install", "--no-index", str(wheel)], tmp_path, ok=False)
    assert refused.returncode != 0 and "No matching distribution found" in refused.stderr, refused.stderr[-2000:]
    assert "(from patchdm-studio)" in refused.stderr

    # ... and with this project's environment in sight they are satisfied, so only the wheel is installed
    python, site_packages = fresh_venv(tmp_path / "venv")
    (site_packages / "_project_env.pth").write_text(sysconfig.get_path("purelib") + "\n")
    installed = run(pip + ["--python", str(python), "install", "--no-index", str(wheel)], tmp_path)
    assert "Requirement already satisfied: torch" in installed.stdout
    assert "Successfully installed patchdm-studio-" in installed.stdout
    bin_dir = python.parent

    probe = "import app, patchdm_core.cli.common as c; print(app.__file__, c.default_weights())"
    where = run([str(python), "-c", probe], outside)
    app_file, weights = map(Path, where.stdout.split())
    assert app_file.is_relative_to(site_packages) and weights.is_relative_to(site_packages), where.stdout
    assert weights.name == SHIPPED[0] and weights.is_file()

    patchdm = [str(bin_dir / "patchdm"), "generate", "--size", "64x64", "--seed", "1"]
    run([*patchdm, "--steps", "1", "-o", "out.png"], outside)
    with Image.open(outside / "out.png") as img:
        assert img.size == (64, 64) and "patchdm-demo" in img.text.get("parameters", "")
    layouts = ["--composition", "layouts", "--steps", "2", "-o", "layout.png"]  # the bank beside the weights
    run([*patchdm, *layouts], outside)
    assert (outside / "layout.png").is_file()

    studio = run([str(bin_dir / "patchdm-studio"), "--help"], outside)
    assert studio.stdout.startswith("usage: patchdm-studio") and "--weights" in studio.stdout
    assert sorted(p.name for p in outside.iterdir()) == ["layout.png", "out.png"]  # nothing else written there


def test_the_commands_name_themselves(capsys: pytest.CaptureFixture) -> None:
    """`patchdm` and `patchdm-studio` say their own names in usage and errors, not `python -m ...`."""
    from app.main import build_parser
    from patchdm_core.cli.main import main

    assert main(["generate"], prog="patchdm") == 2
    assert capsys.readouterr().err.startswith("error: patchdm generate: ")
    assert build_parser("patchdm-studio").format_usage().startswith("usage: patchdm-studio ")
