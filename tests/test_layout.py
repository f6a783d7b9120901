"""The package's shape holds: layers import one way, no cycles, no giant classes.

The layers (README, "Layout"): ``opencode/`` does all I/O and knows nothing of Textual;
``state/`` is pure (no httpx, no Textual), so it is tested without a server or a
screen; ``app/`` sits on top. A change that breaks the shape fails here, before it
spreads. Imports are read from the source (including imports inside functions, which
were once used to hide a cycle); only ``if TYPE_CHECKING:`` imports are left out.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "t3tui"

MAX_CLASS_LINES = 400
MAX_APP_LINES = 350


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str) -> set[str]:
    """Every module ``name`` imports, by absolute name (``from a import b`` gives ``a``
    and, when ``a.b`` is a module of ours, ``a.b`` too)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    found.add(f"{base}.{alias.name}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def ours(name: str) -> str | None:
    """The module of ours that an import names (a submodule import counts as its module)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def closure(start: str) -> set[str]:
    """Everything importing ``start`` imports: directly, through our own modules, and
    through the ``__init__`` of every package on the way."""
    reached: set[str] = set()
    visited = {start}
    todo = [start]
    while todo:
        current = todo.pop()
        parents = [current.rsplit(".", i)[0] for i in range(1, current.count(".") + 1)]
        for imported in [*GRAPH[current], *parents]:
            reached.add(imported)
            mine = ours(imported)
            if mine is not None and mine not in visited:
                visited.add(mine)
                todo.append(mine)
    return reached


def roots(names: set[str]) -> set[str]:
    return {n.split(".")[0] for n in names}


def in_package(prefix: str) -> list[str]:
    return [n for n in MODULES if n == prefix or n.startswith(prefix + ".")]


def test_the_layers_exist() -> None:
    assert in_package("t3tui.opencode") and in_package("t3tui.state") and in_package("t3tui.app")


@pytest.mark.parametrize("module", in_package("t3tui.state"))
def test_state_imports_neither_httpx_nor_textual(module: str) -> None:
    reached = closure(module)
    assert not roots(reached) & {"httpx", "textual", "rich"}, sorted(
        n for n in reached if n.split(".")[0] in {"httpx", "textual", "rich"}
    )
    assert not any(n.startswith("t3tui.app") for n in reached)


@pytest.mark.parametrize("module", in_package("t3tui.opencode"))
def test_opencode_imports_no_textual_and_nothing_above_it(module: str) -> None:
    reached = closure(module)
    assert not roots(reached) & {"textual", "rich"}
    assert not any(n.startswith(("t3tui.app", "t3tui.state")) for n in reached), sorted(reached)


def test_importing_state_loads_neither_httpx_nor_textual() -> None:
    """The same, at run time: what ``import t3tui.state.*`` really loads."""
    names = " ".join(in_package("t3tui.state"))
    code = (
        "import importlib, sys\n"
        f"for n in {names.split()!r}: importlib.import_module(n)\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & {'httpx', 'textual', 'rich'})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""


def test_no_import_cycles() -> None:
    """No module of ours reaches itself through its imports (Tarjan's strongly connected
    components; a cycle is a component of more than one module, or a self-import)."""
    edges = {n: {m for i in GRAPH[n] if (m := ours(i)) is not None and m != n} for n in MODULES}
    # A package's __init__ is imported with its submodules; it must not import them back.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def strongconnect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in MODULES:
        if v not in index:
            strongconnect(v)
    assert cycles == []


def class_sizes() -> list[tuple[int, str]]:
    sizes = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno is not None
                sizes.append((node.end_lineno - node.lineno + 1, f"{name}.{node.name}"))
    return sorted(sizes, reverse=True)


def test_no_class_is_giant() -> None:
    too_big = [(lines, name) for lines, name in class_sizes() if lines > MAX_CLASS_LINES]
    assert too_big == []


def test_the_app_is_thin() -> None:
    lines = {name: size for size, name in class_sizes()}
    assert lines["t3tui.app.app.T3App"] <= MAX_APP_LINES


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_says_why_it_exists(module: str) -> None:
    doc = ast.get_docstring(ast.parse(MODULES[module].read_text(encoding="utf-8")))
    assert doc and doc.splitlines()[0].strip(), f"{module} has no module docstring"
