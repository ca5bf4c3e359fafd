"""The house's shape, checked from the source: no import cycle, imports at module level, apps in their lanes.

The import graph is read with ``ast`` (nothing is imported), so a cycle is found
even where Python would let it pass because one side imports inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("clinic", "patients", "protocols", "scheduling")
# Who may import whom (DESIGN: scheduling -> protocols -> patients; clinic holds what all share and imports no app).
MAY_IMPORT = {
    "clinic": {"clinic"},
    "patients": {"clinic", "patients"},
    "protocols": {"clinic", "patients", "protocols"},
    "scheduling": {"clinic", "patients", "protocols", "scheduling"},
}
LONGEST_MODULE = 420  # lines; "about 400", outside migrations


def _sources() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


MODULES = _sources()


def _resolve(node: ast.ImportFrom | ast.Import, module: str, path: Path) -> list[str]:
    """The project modules an import statement loads (``from pkg import mod`` names the module ``pkg.mod``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] in APPS]
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    if base.split(".")[0] not in APPS:
        return []
    targets = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        targets.append(candidate if candidate in MODULES else base)
    return targets


def _inside_app_ready(parents: list[ast.AST]) -> bool:
    # Django's documented place for imports that need the app registry (signal wiring): AppConfig.ready.
    return any(isinstance(node, ast.FunctionDef) and node.name == "ready" for node in parents)


def _walk(node: ast.AST, parents: list[ast.AST], module: str, path: Path, graph: dict[str, set[str]],
          nested: list[str]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            targets = _resolve(child, module, path)
            in_function = any(isinstance(p, ast.FunctionDef | ast.AsyncFunctionDef) for p in parents)
            if targets and in_function and not _inside_app_ready(parents):
                nested.append(f"{module}:{child.lineno} imports {', '.join(targets)} inside a function")
            if not _inside_app_ready(parents):
                graph[module].update(t for t in targets if t in MODULES and t != module)
        _walk(child, [*parents, child], module, path, graph, nested)


def _imports() -> tuple[dict[str, set[str]], list[str]]:
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    nested: list[str] = []
    for module, path in MODULES.items():
        _walk(ast.parse(path.read_text(), filename=str(path)), [], module, path, graph, nested)
    return graph, nested


GRAPH, NESTED = _imports()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def connect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_the_cycle_finder_finds_a_cycle_through_three_modules():
    # given a made-up graph a -> b -> c -> a, and d hanging off it
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    # then exactly the three are one cycle
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_module_of_the_project_is_part_of_an_import_cycle():
    assert _cycles(GRAPH) == []


def test_project_imports_are_at_module_level_except_in_app_ready():
    assert NESTED == []


def test_each_app_imports_only_the_apps_below_it():
    wrong = [f"{module} imports {target}" for module, targets in GRAPH.items() for target in targets
             if target.split(".")[0] not in MAY_IMPORT[module.split(".")[0]]]
    assert wrong == []


def test_no_module_outside_migrations_is_much_over_four_hundred_lines():
    long = {module: lines for module, path in MODULES.items()
            if (lines := len(path.read_text().splitlines())) > LONGEST_MODULE}
    assert long == {}


def test_the_graph_sees_the_imports_it_checks():
    # a guard for the checks above: the walk found the booking wing importing the models it books
    assert "scheduling.models" in GRAPH["scheduling.booking.services"]
    assert "scheduling.tasks" in GRAPH["scheduling.booking.services"]
