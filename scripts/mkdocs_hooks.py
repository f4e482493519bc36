"""Build hooks of the documentation site (mkdocs.yml names this file under `hooks:`).

- The command-line reference is rendered from the argparse parsers themselves, so the site cannot drift
  from `--help`: a page holding `<!-- cli-reference -->` gets every `python -m patchdm_core` subcommand's
  help there, one holding `<!-- app-reference -->` the help of `app.py`.
- Pages link to files of the repository outside docs/ the way GitHub resolves them (`../weights/README.md`,
  `../bench/results/cpu-demo.md`), so the links work on GitHub. The build copies every such file into the
  site at its repository path (`weights/README.md` -> the site's `weights/`) and rewrites the link to
  point there. A link to a file that does not exist is left as written, so `mkdocs build --strict` fails on
  it like on any other broken link.
"""

from __future__ import annotations

import argparse
import functools
import posixpath
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the reference pages import patchdm_core and app from this checkout
    sys.path.insert(0, str(ROOT))
DOCS = ROOT / "docs"
WIDTH = 100  # columns of the rendered --help (argparse would take the terminal's)
LINK = re.compile(r"(!?\[[^\]\n]*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")


def site_path(path: Path) -> str:
    """Where a repository file sits in the site's source tree: docs/x.md -> x.md, weights/y -> weights/y."""
    rel = path.resolve().relative_to(ROOT)
    return posixpath.join(*(rel.parts[1:] if rel.parts[0] == "docs" else rel.parts))


def source_path(page: str) -> Path:
    """The repository file behind a page of the site (a nav entry): docs/<page>, else <page> copied in."""
    return DOCS / page if (DOCS / page).exists() else ROOT / page


def local_links(text: str) -> Iterator[tuple[re.Match[str], str, str]]:
    """(match, path, #anchor) of every relative markdown link or image in `text`."""
    for match in LINK.finditer(text):
        target = match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
            continue
        path, _, anchor = target.partition("#")
        yield match, path, f"#{anchor}" if anchor else ""


def outside_files() -> list[Path]:
    """Every file outside docs/ that a docs page links to, and what a linked markdown file links to in turn."""
    queue = sorted(DOCS.rglob("*.md"))
    found: set[Path] = set()
    while queue:
        page = queue.pop()
        for _, path, _ in local_links(page.read_text()):
            target = (page.parent / path).resolve()
            if target.is_relative_to(DOCS) or not target.is_relative_to(ROOT) or not target.is_file():
                continue
            if target not in found:
                found.add(target)
                queue += [target] if target.suffix == ".md" else []
    return sorted(found)


def on_files(files, config):
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    docs_dirs = {p.name for p in DOCS.iterdir() if p.is_dir()}
    for path in outside_files():
        rel = site_path(path)
        if rel.split("/")[0] in docs_dirs or (DOCS / rel).exists():
            raise PluginError(f"{rel} is both a repository file the docs link to and a path inside docs/")
        files.append(File(rel, str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


def rewrite_links(markdown: str, source: Path) -> str:
    """Links to repository files outside docs/ pointed at their copies in the site (see the module doc)."""
    here = posixpath.dirname(site_path(source))

    def fix(match: re.Match[str], path: str, anchor: str) -> str:
        target = (source.parent / path).resolve()
        if not (target.is_relative_to(ROOT) and target.exists()):
            return match.group(0)  # left broken: the strict build reports it
        new = posixpath.relpath(site_path(target), here or ".")
        return f"{match.group(1)}{new}{anchor}{match.group(3)}"

    out, last = [], 0
    for match, path, anchor in local_links(markdown):
        out += [markdown[last : match.start()], fix(match, path, anchor)]
        last = match.end()
    return "".join(out) + markdown[last:]


def _help(parser: argparse.ArgumentParser) -> str:
    parser.formatter_class = functools.partial(parser.formatter_class, width=WIDTH)
    return parser.format_help().rstrip()


def cli_reference() -> str:
    """Markdown: one section per subcommand of `python -m patchdm_core`, its description and its --help."""
    from patchdm_core.cli.main import COMMANDS, build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = []
    for name, command in sub.choices.items():
        out += [f"### {name}", "", f"{COMMANDS[name][1].capitalize()}.", "", "```text", _help(command), "```", ""]
    return "\n".join(out)


def app_reference() -> str:
    """Markdown: `python app.py --help`."""
    from app.main import build_parser

    return "\n".join(["```text", _help(build_parser()), "```"])


MARKERS = {"<!-- cli-reference -->": cli_reference, "<!-- app-reference -->": app_reference}


def on_page_markdown(markdown, page, config, files):
    markdown = rewrite_links(markdown, Path(page.file.abs_src_path))
    for marker, render in MARKERS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, render())
    return markdown
