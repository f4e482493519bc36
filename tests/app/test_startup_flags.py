"""The app's start-up flags are checked as the command line's are: one line, exit 2, before the model loads
or a port opens, and nothing made on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.main import build_parser, check_flags


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--device", "cuda"], "no CUDA GPU"),
        (["--device", "tpu:0"], "device"),
        (["--host", "nowhere.example"], "--host must be an address"),
        (["--host", "300.1.1.1"], "--host must be an address"),
        (["--outputs", "{file}"], "is a file"),
        (["--outputs", "/proc/patchdm-outputs"], "cannot write"),
        (["--outputs", "{file}/below"], "is a file"),
    ],
)
def test_bad_start_up_flags_are_one_sentence_before_anything_starts(tmp_path: Path, flags: list, words: str) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    args = build_parser().parse_args([f.format(file=a_file) for f in flags])
    with pytest.raises(ValueError, match=words):
        check_flags(args)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]


def test_good_flags_pass_and_make_nothing(tmp_path: Path) -> None:
    args = build_parser().parse_args(["--host", "0.0.0.0", "--outputs", str(tmp_path / "new" / "pictures")])
    check_flags(args)
    assert list(tmp_path.iterdir()) == []  # the folder is made by the History, when the app starts
    assert check_flags(build_parser().parse_args(["--host", "localhost", "--outputs", str(tmp_path)])) is None


def test_app_main_refuses_in_one_line(capsys) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("app_main", Path(__file__).resolve().parents[2] / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--host", "my laptop"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --host")


def test_more_threads_than_this_machine_gives_are_refused_in_one_line(capsys) -> None:
    """issue 30: --threads uses runtime.limits.threads_arg, as the command line does."""
    from patchdm_core.runtime.limits import usable_cpus

    too_many = usable_cpus() + 1
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["--threads", str(too_many)])
    assert stop.value.code == 2
    line = capsys.readouterr().err.strip()
    assert line.count("\n") == 0 and f"the CPUs this machine gives, got {too_many}" in line
    assert build_parser().parse_args(["--threads", str(usable_cpus())]).threads == usable_cpus()
