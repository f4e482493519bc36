"""The app's layout holds: imports only point down the layer order that app/__init__.py writes down (shared <
tabs < studio < page < main), no tab imports another, no modules import each other in a cycle, every part says
what it holds, and files stay small.

The order is read from app/__init__.py's docstring (one line such as `shared < tabs < studio < page < main`),
so the document and the code cannot drift apart: a part missing from it, or an import that points up or
sideways, fails here with the file and line of the import. (That app/ reaches the model only through the
PatchDM facade is tests/test_architecture.py's rule.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.test_architecture import MAX_LINES, cycles

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "app"
FRONT = {"__init__", "__main__"}  # the package's front door: it may import any part, no part imports it
OWN_PARTS = "tabs"  # each module in this folder is a part of its own: its modules share a layer, not a part


def layer_order() -> dict[str, int]:
    """'shared < tabs < studio' from app/__init__.py's docstring -> {shared: 0, tabs: 1, studio: 2}."""
    doc = ast.get_docstring(ast.parse((ROOT / PACKAGE / "__init__.py").read_text())) or ""
    lines = [ln.strip().strip("`") for ln in doc.splitlines() if ln.count("<") >= 2]
    assert len(lines) == 1, f"app/__init__.py's docstring must write the layer order on one line, found {lines}"
    return {part.strip(): i for i, group in enumerate(lines[0].split("<")) for part in group.split("|")}


def part_of(module: str) -> str:
    """'app.shared.jobs' -> 'shared'; 'app.tabs.generate' -> 'tabs.generate'; 'app.page' -> 'page'."""
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    if parts[1] == OWN_PARTS and len(parts) > 2:
        return f"{OWN_PARTS}.{parts[2]}"
    return parts[1]


def layer_of(part: str) -> str:
    """The name the layer order gives a part: 'tabs.generate' -> 'tabs'."""
    return part.split(".")[0]


def sources() -> dict[str, str]:
    """Every module of the app package: dotted name -> source."""
    out = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path.read_text()
    return out


def imports(module: str, source: str, known: set[str]) -> list[tuple[str, int]]:
    """(imported module of the app, line) for every import in `source`, at any depth (a lazy import inside a
    function is a dependency too). `from pkg import name` means pkg.name when that is a module."""
    is_package = any(k.startswith(module + ".") for k in known)  # an __init__: its own dots are its package
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == PACKAGE]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != PACKAGE:
                continue
            subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
            found += [(s, node.lineno) for s in subs] or [(target, node.lineno)]
    return found


def violations(modules: dict[str, str], order: dict[str, int]) -> list[str]:
    """Imports that point up the order, across a layer (one tab into another), or into the app's front; and
    import cycles."""
    known = set(modules)
    problems, graph = [], {}
    for module, source in modules.items():
        own = part_of(module)
        graph[module] = set()
        for target, line in imports(module, source, known):
            theirs = part_of(target)
            graph[module].add(target)
            where = f"{module} (line {line}) imports {target}"
            if theirs == own or own in FRONT:
                continue
            mine, their_layer = layer_of(own), layer_of(theirs)
            if theirs in FRONT:
                problems.append(f"{where}: nothing inside the app imports its front (app/__init__, app/__main__)")
            elif mine not in order or their_layer not in order:
                missing = mine if mine not in order else their_layer
                problems.append(f"{where}: {missing} is not in app/__init__.py's layer order")
            elif order[their_layer] > order[mine]:
                problems.append(f"{where}: {theirs} is above {own} in the layer order")
            elif order[their_layer] == order[mine]:
                problems.append(f"{where}: {theirs} and {own} share a layer and must not import each other")
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
    return problems


def test_app_imports_point_down_its_layer_order_and_form_no_cycle() -> None:
    problems = violations(sources(), layer_order())
    assert not problems, "\n".join(problems)


def test_the_app_layer_check_catches_a_tab_import_an_upward_one_and_a_cycle() -> None:
    """The check itself can fail: a shared module importing a tab, a tab importing another tab, a tab
    importing the page, a module importing the front, and two shared modules importing each other."""
    order = {"shared": 0, "tabs": 1, "studio": 2, "page": 3}
    fake = {
        "app": "",
        "app.shared.cost": "from ..tabs.span import monitors_of\n",
        "app.shared.jobs": "def f():\n    from . import events\n",
        "app.shared.events": "from .jobs import Jobs\n",
        "app.tabs.span": "from ..shared.jobs import Update\n",
        "app.tabs.sketch": "from app.tabs import span\n",
        "app.tabs.upscale": "from ..page import build\n",
        "app.studio": "from . import tabs\nimport app\n",
        "app.page": "from .studio import Studio\n",
    }
    problems = violations(fake, order)
    assert any("app.shared.cost (line 1) imports app.tabs.span: tabs.span is above shared" in p for p in problems)
    assert any("app.tabs.sketch (line 1) imports app.tabs.span: tabs.span and tabs.sketch share" in p for p in problems)
    assert any("app.tabs.upscale (line 1) imports app.page: page is above tabs.upscale" in p for p in problems)
    assert any("app.studio (line 2) imports app: nothing inside the app imports its front" in p for p in problems)
    assert any(p.startswith("import cycle:") and "shared.jobs" in p and "shared.events" in p for p in problems)
    assert not any("app.tabs.span (line 1)" in p or "app.page (line 1)" in p for p in problems)  # downward: fine


def test_the_layer_order_names_every_part_of_the_app() -> None:
    order = layer_order()
    root = ROOT / PACKAGE
    folders = {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in root.glob("*.py")} - FRONT
    assert set(order) == folders | modules, f"layer order {sorted(order)} against app/ {sorted(folders | modules)}"
    assert OWN_PARTS in folders and order[OWN_PARTS] > order["shared"], "tabs/ must sit above shared/"


def test_every_part_of_the_app_says_what_it_holds_and_what_it_may_import() -> None:
    for init in sorted((ROOT / PACKAGE).glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and "import" in doc, f"app/{init.parent.name}/__init__.py must say what it holds and may import"


def test_the_model_package_never_imports_the_app() -> None:
    """patchdm_core is below the app: it imports neither the app nor gradio."""
    for path in sorted((ROOT / "patchdm_core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            bad = [n for n in names if n.split(".")[0] in (PACKAGE, "gradio")]
            assert not bad, f"{path.relative_to(ROOT)}:{node.lineno} imports {bad[0]}"


@pytest.mark.parametrize(
    "path", [ROOT / "app.py", *sorted((ROOT / PACKAGE).rglob("*.py"))], ids=lambda p: str(p.relative_to(ROOT))
)
def test_app_files_stay_small(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES}): split it by concept"
