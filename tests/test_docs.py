"""The documentation site builds with no broken link and no missing page: `mkdocs build --strict` (what
`make docs` runs) into a temporary folder fails on a link to a page or heading that does not exist; every
page of the nav exists and every page of docs/ is in the nav; every local link and image of the README,
the model card and docs/ resolves to a file inside the repository; the command-line reference is rendered
from the parser, every subcommand and every flag of it.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts import mkdocs_hooks as hooks

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", ROOT / "weights" / "README.md", *sorted(DOCS.rglob("*.md"))]
IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")


def _build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def nav_pages(nav: list) -> list[str]:
    """Every page path of a mkdocs nav (strings, {title: path} and {title: [sections]})."""
    out = []
    for item in nav:
        values = item.values() if isinstance(item, dict) else [item]
        for value in values:
            out += nav_pages(value) if isinstance(value, list) else [value]
    return out


def config() -> dict:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text())


def test_the_site_builds_strict_with_the_reference_rendered(tmp_path) -> None:
    result = _build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    cli = (tmp_path / "site" / "cli" / "index.html").read_text()
    app = (tmp_path / "site" / "app" / "index.html").read_text()
    assert "cli-reference" not in cli and "app-reference" not in app, "a reference marker was not replaced"
    assert cli.count("usage: python -m patchdm_core") >= 13 and "usage: python app.py" in app
    for page in nav_pages(config()["nav"]):
        built = page.removesuffix(".md").removesuffix("index").removesuffix("README").rstrip("/")
        assert (tmp_path / "site" / built / "index.html").is_file(), f"{page} was not built"
    assert (tmp_path / "site" / "weights" / "samples.png").is_file(), "an image outside docs/ was not copied"


def test_a_broken_link_fails_the_strict_build(tmp_path) -> None:
    """The check above can fail: the same theme and hooks on a page that links to a missing page."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\nSee [the missing page](missing.md).\n")
    cfg = config() | {"docs_dir": str(docs), "nav": ["index.md"], "hooks": []}
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(cfg))
    result = _build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0 and "missing.md" in result.stdout + result.stderr


def test_every_page_of_the_nav_exists_and_every_page_is_in_the_nav() -> None:
    nav = nav_pages(config()["nav"])
    for page in nav:
        assert hooks.source_path(page).is_file(), f"mkdocs.yml's nav names {page}, which does not exist"
    in_docs = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert in_docs - set(nav) == set(), "pages of docs/ missing from the nav"
    assert "weights/README.md" in nav and "experiments/index.md" in nav


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_local_link_and_image_resolves_inside_the_repository(page: Path) -> None:
    text = page.read_text()
    for _, path, _ in hooks.local_links(text):
        target = (page.parent / path).resolve()
        assert target.is_relative_to(ROOT), f"{page.name} links outside the repository: {path}"
        assert target.exists(), f"{page.relative_to(ROOT)} links to {path}, which does not exist"
        if path.lower().endswith(IMAGES):
            assert target.is_file() and target.stat().st_size > 0, f"{page.relative_to(ROOT)}: empty image {path}"
    for image in re.findall(r"!\[[^\]]*\]\(([^)\s]+)", text):
        assert (page.parent / image).is_file(), f"{page.relative_to(ROOT)}: image {image} is missing"


def test_the_app_screenshots_stay_where_they_are() -> None:
    app = (DOCS / "app.md").read_text()
    for tab in ("generate", "span", "inpaint", "outpaint", "sketch", "upscale"):
        assert (DOCS / f"app-{tab}.jpg").is_file() and f"(app-{tab}.jpg)" in app, tab


def test_the_cli_reference_holds_every_subcommand_and_flag() -> None:
    from patchdm_core.cli.main import COMMANDS, build_parser

    text = hooks.cli_reference()
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(COMMANDS)
    for name, parser in sub.choices.items():
        assert f"### {name}\n" in text
        for action in parser._actions:
            for flag in action.option_strings:
                assert flag in text, f"{name} {flag} is missing from the rendered reference"


def test_links_outside_docs_are_pointed_at_their_copies() -> None:
    page = DOCS / "experiments" / "sampler.md"
    out = hooks.rewrite_links("![x](../../weights/samples-crops.jpg) [c](../changelog.md#v14) [n](nope.md)", page)
    assert out == "![x](../weights/samples-crops.jpg) [c](../changelog.md#v14) [n](nope.md)"
    card = ROOT / "weights" / "README.md"
    assert hooks.rewrite_links("[e](../docs/experiments/index.md)", card) == "[e](../experiments/index.md)"
