"""Every import in `proxy/` points one way: no module imports one that imports it back.

Counted are all imports between the engine's modules, those under `if TYPE_CHECKING:` and
those inside functions included: a circle through any of them is one a reader has to hold
in their head, and one refactoring away from an import error.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import ROOT

PROXY = ROOT / "proxy"


def _module(path: Path) -> str:
    parts = path.relative_to(PROXY).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__") or "__init__"


def _imports() -> dict[str, set[str]]:
    modules = {_module(p): p for p in PROXY.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name.rsplit(".", 1)[0] if path.name != "__init__.py" and "." in name else ""
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or node.level == 0:
                continue
            base = package if node.level == 1 else ""
            target = ".".join(p for p in (base, node.module or "") if p)
            candidates = [target] + [f"{target}.{a.name}" if target else a.name for a in node.names]
            graph[name] |= {c for c in candidates if c in modules and c != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_graph_is_read_from_the_source() -> None:
    graph = _imports()
    assert {"admin", "endpoint", "gateway"} <= graph["app"]
    assert "registry" in graph["gateway"] and "store" in graph["gateway"]


def test_no_module_imports_one_that_imports_it_back() -> None:
    cycle = _cycle(_imports())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_nothing_below_the_application_imports_it() -> None:
    graph = _imports()
    importers = sorted(name for name, targets in graph.items() if "app" in targets)
    assert importers == ["cli.serving"], importers  # `yamcp serve` builds the app; nothing else
    assert "forward" not in graph["hooks"]  # checks get a call function instead


def test_no_test_module_imports_another() -> None:
    """Shared helpers live in `tests/support/`: a test module is collected, never imported."""
    tests = ROOT / "tests"
    offenders = []
    modules = [p for p in tests.rglob("test_*.py") if "node_modules" not in p.parts]
    assert len(modules) > 60  # every folder of tests is read
    for path in sorted(modules):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:  # `from .test_x import y` inside the `tests` package
                    module = ".".join(p for p in ("tests", module) if p)
                names = [module]
                if module == "tests" or module.startswith("tests."):
                    names += [f"{module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            offenders += [
                f"{path.name}:{node.lineno}: {name}"
                for name in names
                if name.rsplit(".", 1)[-1].startswith("test_")
            ]
    assert not offenders, "test modules importing test modules:\n" + "\n".join(offenders)


def test_one_module_starts_and_ends_every_call_and_knows_no_http() -> None:
    graph = _imports()
    assert "calls" in graph["endpoint"]
    assert not graph["calls"] & {"app", "endpoint", "admin", "approval_api"}
    tree = ast.parse((PROXY / "calls.py").read_text())
    external = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0
    }
    assert "starlette" not in external
