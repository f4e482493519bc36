"""bench/device_run.sh, the prepared run for a lent GPU, dry-run on the CPU with the tiny config: it runs
end to end (train, low-noise pass, prior, two evals) and leaves in $OUT only what a device call carries
back: at most 8 files, each at most 16 MiB, 64 MiB in all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from patchdm_core import PatchDM, tiny
from patchdm_core.model.weights import save_weights
from tests.helpers import image_folder

ROOT = Path(__file__).resolve().parent.parent
MiB = 2**20


@pytest.mark.slow
def test_the_device_script_runs_end_to_end_and_returns_within_the_limits(tmp_path: Path) -> None:
    init = tmp_path / "init.safetensors"
    save_weights(init, PatchDM.random_init(tiny(), device="cpu").model, tiny(), metadata={})
    out = tmp_path / "out"
    env = os.environ | {
        "PY": sys.executable, "DEVICE": "cpu", "CONFIG": "tiny", "BATCH": "4", "INIT": str(init),
        "DATA": str(image_folder(tmp_path / "data", n=3)), "HELDOUT": str(image_folder(tmp_path / "held", n=2)),
        "MINUTES": "0.05", "LOW_MINUTES": "0.03", "LATENT_STEPS": "20", "N": "2", "SIZE": "64x32",
        "BENCH_SECONDS": "2", "ARMS": "none channels-last autotune",
        "CHECKS": "0", "SNAP_EVERY": "1", "RUN": str(tmp_path / "run"), "OUT": str(out),
    }  # fmt: skip
    done = subprocess.run(
        ["bash", "bench/device_run.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    steps = ("bench-train none", "bench-train channels-last", "train", "low-noise pass", "train-latent", "eval new")
    assert all(f"{step} exit 0" in log for step in (*steps, "eval init")), log
    assert "bench-train autotune exit 2" in log  # a lever this device cannot run is one failed arm, not the run's end
    fastest = log.split("fastest speed levers: ")[1].split()[0]
    assert fastest in ("none", "channels-last"), log
    assert f"speed levers: {fastest}" in (tmp_path / "run" / "train-main.log").read_text()
    files = [p for p in out.rglob("*") if p.is_file()]
    sizes = [p.stat().st_size for p in files]
    assert len(files) <= 8 and max(sizes) <= 16 * MiB and sum(sizes) <= 64 * MiB, files
    returned = {"weights.safetensors", "eval-new.md", "eval-init.md", "eval.json", "small.tar.gz"}
    assert {p.name for p in files} == returned
    pipe = PatchDM.load(out / "weights.safetensors", device="cpu")
    assert pipe.model.latent.ready and pipe.metadata["latent_steps"] == "20"  # the prior refitted to its codes
    assert pipe.cfg.train.t_max == 150 and pipe.cfg.train.freeze_encoder  # the low-noise pass came last
    tables = json.loads((out / "eval.json").read_text())
    assert set(tables) == {"eval-new", "eval-init"}
    assert all("thumb64" in r for t in tables.values() for r in t["rows"][1:])
    with tarfile.open(out / "small.tar.gz") as tar:
        names = tar.getnames()
    assert "./train-main.log" in names and "./machine.log" in names
    assert not any(n.endswith(".safetensors") or "/state/" in n for n in names)


@pytest.mark.slow
def test_the_checks_script_runs_and_returns_its_tables(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = os.environ | {
        "PY": sys.executable, "DEVICE": "cpu", "CONFIG": "tiny", "SIZES": "128x64", "LEVERS": "channels-last",
        "BENCH_SECONDS": "2", "CHECKS": "0", "COMPILES": "none", "RUN": str(tmp_path / "run"), "OUT": str(out),
    }  # fmt: skip
    done = subprocess.run(
        ["bash", "bench/device_checks.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0 and "bench none exit 0" in log and "bench-train tiny exit 0" in log, log
    assert {p.name for p in out.iterdir()} == {"cpu-tiny.json", "cpu-tiny.md", "bench-train-tiny.json"}
    rows = json.loads((out / "cpu-tiny.json").read_text())["steps"]
    assert {r["mode"] for r in rows} == {"feature", "naive"} and all(r["percent_of_peak"] > 0 for r in rows)
    assert json.loads((out / "bench-train-tiny.json").read_text())["speed"] == "channels-last"
