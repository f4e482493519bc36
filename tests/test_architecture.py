"""The package's layout holds: imports only point down the layer order that README's Layout section writes
down, no modules import each other in a cycle, every part says what it holds, and files stay small.

The order is read from README.md (one line such as `runtime < model < ... < training | evaluation < cli`),
so the document and the code cannot drift apart: a part missing from it, or an import that points up
it, fails here with the file and line of the import.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "patchdm_core"
FRONT = {"__init__", "__main__"}  # the package's front door: it may import any part, no part imports it
MAX_LINES = 350


def layout_section() -> str:
    text = (ROOT / "docs" / "design.md").read_text()
    match = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, "docs/design.md has no '## Layout' section"
    return match.group(1)


def layer_order(section: str) -> dict[str, int]:
    """'runtime < model < training | evaluation' -> {runtime: 0, model: 1, training: 2, evaluation: 2}."""
    lines = [ln.strip().strip("`") for ln in section.splitlines() if ln.count("<") >= 2]
    assert len(lines) == 1, f"README's Layout section must write the layer order on one line, found {lines}"
    return {part.strip(): i for i, group in enumerate(lines[0].split("<")) for part in group.split("|")}


def part_of(module: str) -> str:
    """'patchdm_core.sampling.denoiser' -> 'sampling'; 'patchdm_core.pipeline' -> 'pipeline'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def sources() -> dict[str, str]:
    """Every module of the package: dotted name -> source."""
    out = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path.read_text()
    return out


def imports(module: str, source: str, known: set[str]) -> list[tuple[str, int]]:
    """(imported module of the package, line) for every import in `source`, at any depth (a lazy import
    inside a function is a dependency too). `from pkg import name` means pkg.name when that is a module."""
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
    """Imports that point up the order, across a layer, or into the package's front; and import cycles."""
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
            if theirs in FRONT:
                problems.append(f"{where}: nothing inside the package imports its front ({PACKAGE}/__init__)")
            elif own not in order or theirs not in order:
                problems.append(f"{where}: {own if own not in order else theirs} is not in README's layer order")
            elif order[theirs] > order[own]:
                problems.append(f"{where}: {theirs} is above {own} in the layer order")
            elif order[theirs] == order[own]:
                problems.append(f"{where}: {theirs} and {own} share a layer and must not import each other")
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component) + [sorted(component)[0]])

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_imports_point_down_the_layer_order_and_form_no_cycle() -> None:
    problems = violations(sources(), layer_order(layout_section()))
    assert not problems, "\n".join(problems)


def test_the_layer_check_catches_an_upward_import_a_sideways_one_and_a_cycle() -> None:
    """The check itself can fail: a model module importing sampling, training importing evaluation (one
    layer), and two runtime modules importing each other are each reported."""
    order = {"runtime": 0, "model": 1, "sampling": 2, "training": 3, "evaluation": 3}
    fake = {
        "patchdm_core.model.unet": "from ..sampling.denoiser import CanvasDenoiser\n",
        "patchdm_core.sampling.denoiser": "def f():\n    from ..model import unet\n",
        "patchdm_core.training.loop": "from patchdm_core.evaluation import metrics\n",
        "patchdm_core.evaluation.metrics": "",
        "patchdm_core.runtime.a": "from . import b\n",
        "patchdm_core.runtime.b": "from .a import x\n",
    }
    problems = violations(fake, order)
    assert any(
        "model.unet (line 1) imports patchdm_core.sampling.denoiser: sampling is above model" in p for p in problems
    )
    assert any("training and evaluation share a layer" in p or "evaluation and training share" in p for p in problems)
    assert any(p.startswith("import cycle:") and "runtime.a" in p and "runtime.b" in p for p in problems)
    assert any(p.startswith("import cycle:") and "model.unet" in p for p in problems)  # the lazy import counts


def test_readme_layout_names_every_part_and_the_parts_are_the_package() -> None:
    section = layout_section()
    order = layer_order(section)
    root = ROOT / PACKAGE
    parts = {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    top = {p.stem for p in root.glob("*.py")}
    assert top == FRONT | {"pipeline"}, f"only __init__, __main__ and the facade sit at the top: {sorted(top)}"
    assert set(order) == parts | {"pipeline"}, f"layer order {sorted(order)} against the package {sorted(parts)}"
    for part in parts:
        assert re.search(rf"^\s+{part}/\s", section, re.M), f"README's Layout tree has no line for {part}/"
    assert re.search(r"^\s+pipeline\.py\s", section, re.M), "README's Layout tree has no line for pipeline.py"


def test_every_part_says_what_it_holds_and_what_it_may_import() -> None:
    for init in sorted((ROOT / PACKAGE).glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and "import" in doc, f"{init.parent.name}/__init__.py must say what it holds and may import"


@pytest.mark.parametrize("path", sorted((ROOT / PACKAGE).rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_files_stay_small(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES}): split it by concept"


def test_the_app_reaches_the_model_only_through_the_facade() -> None:
    """app/ paints through PatchDM; it reads constants and helpers, never networks, training or metrics."""
    for path in [ROOT / "app.py", *sorted((ROOT / "app").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE + "."):
                part = node.module.split(".")[1]
                assert part not in ("model", "training", "evaluation"), (
                    f"{path.name}:{node.lineno} imports {node.module}"
                )
