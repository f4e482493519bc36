"""What users and scripts rely on does not move with the package's layout: the names `patchdm_core` exports,
the facade's methods, every command and flag of `python -m patchdm_core`, and what bench/ and scripts/ import."""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
from pathlib import Path

import pytest

import patchdm_core
from patchdm_core import PatchDM
from patchdm_core.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]

# name -> the module that defines it
EXPORTS = {
    "CheckpointError": "patchdm_core.model.weights",
    "Cond": "patchdm_core.sampling.guidance",
    "Grid": "patchdm_core.model.collage",
    "PatchDM": "patchdm_core.pipeline",
    "PatchDMConfig": "patchdm_core.model.config",
    "Step": "patchdm_core.sampling.solvers",
    "cfg": "patchdm_core.sampling.guidance",
    "ddim_sample": "patchdm_core.sampling.solvers",
    "demo": "patchdm_core.model.presets",
    "from_pil": "patchdm_core.runtime.images",
    "paper": "patchdm_core.model.presets",
    "pick_device": "patchdm_core.runtime.devices",
    "preset": "patchdm_core.model.presets",
    "run": "patchdm_core.sampling.solvers",
    "tiny": "patchdm_core.model.presets",
    "to_pil": "patchdm_core.runtime.images",
}

FACADE = (
    "load random_init generate inpaint outpaint reroll img2img upscale compose encode_style sample_z default_z "
    "settings denoiser cond initial_noise canvas_device default_chunk params cfg p"
).split()

# every command of `python -m patchdm_core` and its options (the CLI's contract with scripts and users)
COMMANDS = {
    "generate": "--bezel --chunk --compose-with --composition --device --eta --grid --guidance --guidance-interval "
    "--help --layout-family --layout-from --layout-model --layout-palette --layout-seed --layout-strength "
    "--layouts --max-pixels --mode --output --palette-strength --positions --precision --preset "
    "--random-init --sampler --seed --size --span --steps --stride --structure-band --structure-stop "
    "--structure-strength --style --threads --tileable --weights -h -o",
    "inpaint": "--anchor --blur --chunk --content --device --eta --grid --guidance --guidance-interval --help "
    "--image --jump --margin --mask --max-pixels --method --model-detail --only-masked --output "
    "--precision --preset --random-init --resample --sampler --seed --steps --strength --threads "
    "--weights -h -o",
    "outpaint": "--anchor --chunk --device --eta --extend --feather --grid --guidance --guidance-interval --help "
    "--image --max-pixels --model-detail --output --precision --preset --random-init --sampler --seed "
    "--steps --strength --threads --weights -h -o",
    "reroll": "--anchor --blur --box --chunk --device --eta --grid --guidance --guidance-interval --help --image "
    "--max-pixels --model-detail --output --precision --preset --random-init --sampler --seed --steps "
    "--strength --threads --weights -h -o",
    "img2img": "--chunk --device --eta --grid --guidance --guidance-interval --help --image --max-pixels --output "
    "--precision --preset --random-init --sampler --seed --size --steps --strength --threads --weights -h "
    "-o",
    "upscale": "--chunk --device --eta --grid --guidance --guidance-interval --help --how --image --max-pixels "
    "--output --precision --preset --random-init --sampler --scale --seed --size --steps --strength "
    "--threads --weights -h -o",
    "train": "--batch-size --clip-model --clip-weights --config --crops --data --device --ema-decay --ema-extra "
    "--freeze-encoder --help --image-size --init --log-every --lr --lr-scaling --min-snr-gamma --minutes "
    "--no-bf16 --offsets --out --precision --resume --sample-every --save-every --seed --speed --steps "
    "--t-max --t-min --threads --window -h",
    "train-latent": "--batch-size --clip-weights --data --help --lr --min-luminance --out --precision --seed --steps "
    "--threads --weights -h",
    "train-layout": "--batch-size --channels --data --device --help --init --lr --minutes --out --precision "
    "--save-minutes --seed --steps --threads --thumb -h",
    "eval": "--compositions --data --device --etas --grids --guidance --guidance-intervals --help --layout-model "
    "--layout-strength --layouts --modes --n --out --positions --precision --random-init --samplers "
    "--save-images --sizes --threads --weights -h",
    "bench": "--chunk-canvas --chunks --compile --config --device --full --gpu-report --help --max-size --modes "
    "--out --peak-tflops --precision --quick --repeats --sizes --sliding-max-size --threads -h",
    "bench-train": "--batch-size --config --data --device --help --no-bf16 --offsets --out --precision --seconds "
    "--speed --threads --window -h",
    "set-defaults": "--eta --grid --guidance --guidance-interval --help --positions --precision --sampler --steps "
    "--threads --weights -h",
}


def test_the_package_exports_every_name_it_had_from_where_it_is_defined() -> None:
    assert sorted(patchdm_core.__all__) == sorted(EXPORTS)
    for name, module in EXPORTS.items():
        assert getattr(patchdm_core, name) is getattr(importlib.import_module(module), name), name


def test_the_facade_keeps_its_methods_and_shows_each_tool_s_own_signature(tiny_pipe) -> None:
    missing = [name for name in FACADE if not hasattr(PatchDM, name)]
    assert not missing, missing
    params = inspect.signature(tiny_pipe.inpaint).parameters
    assert list(params)[:2] == ["image", "keep_mask"] and "strength" in params  # not (*args, **kw)
    assert "Repaint where keep_mask" in PatchDM.inpaint.__doc__


def test_every_command_keeps_its_flags() -> None:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == list(COMMANDS)
    for name, parser in sub.choices.items():
        flags = sorted(o for a in parser._actions for o in a.option_strings)
        assert flags == COMMANDS[name].split(), name


SCRIPTS = sorted([*ROOT.glob("bench/**/*.py"), *ROOT.glob("scripts/*.py"), *ROOT.glob("tests/**/*.py")])


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_scripts_import_names_that_exist(path: Path) -> None:
    """bench/ and scripts/ are run by hand or on a GPU machine, not by the suite: a name they import
    (in code, or in a command string they run) must still exist where they look for it."""
    text = path.read_text()
    found = re.findall(r"from (patchdm_core[\w.]*) import \(([^)]*)\)", text)
    found += re.findall(r"from (patchdm_core[\w.]*) import ([\w ,]+)", text)
    for module, names in found:
        mod = importlib.import_module(module)
        for name in (n.split(" as ")[0].strip() for n in names.split(",")):
            if name:
                assert hasattr(mod, name) or importlib.util.find_spec(f"{module}.{name}"), f"{module}.{name}"
