"""The package's modules import each other in one direction: no circles, and `definitions.py`
(the code location) is the top that nothing imports."""

from __future__ import annotations

import ast
from pathlib import Path

import learn_assets

ROOT = Path(learn_assets.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Every learn_assets module and the learn_assets modules it imports, anywhere in it
    (a lazy import inside a function is still a dependency)."""
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from package import module` depends on that module, not on the package's
                # __init__; `from module import name` on the module.
                targets = [
                    f"{node.module}.{a.name}"
                    if f"{node.module}.{a.name}" in modules
                    else node.module
                    for a in node.names
                ]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            found |= {t for t in targets if t in modules and t != name}
        graph[name] = found
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle found by a depth-first search (one per back edge)."""
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                found.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def package_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_module_imports_in_a_circle():
    assert cycles(imports()) == []


def test_no_package_imports_in_a_circle():
    """Folders too: e.g. resources never imports exports, staged never imports core."""
    graph = imports()
    packages: dict[str, set[str]] = {}
    for module, targets in graph.items():
        packages.setdefault(package_of(module), set()).update(
            package_of(t) for t in targets if package_of(t) != package_of(module)
        )
    assert cycles(packages) == []


def test_nothing_imports_the_code_location():
    """`definitions.py` is the top; only `locations.py`, the tenants' code locations (each a
    tenant's `definitions.py` in a process of its own), imports it, and nothing imports that."""
    graph = imports()
    importers = [m for m, targets in graph.items() if "learn_assets.definitions" in targets]
    assert importers == ["learn_assets.locations"]
    assert [m for m, targets in graph.items() if "learn_assets.locations" in targets] == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
