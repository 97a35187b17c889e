"""The package's shape: every module imports on its own, and no two modules import each other.

* Each module of ``app`` is imported as the first ``app`` module of a fresh interpreter (a fork
  of one that has loaded only the third-party libraries, so it stays fast), then all of them in
  one interpreter in both orders: a module that works only after some other was imported fails.
* The import graph, read from the source (module-level and function-level imports alike, since
  a deferred import is still a dependency), has no cycle: imports only run downwards.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "app"
TEMPLATES = ROOT / "templates"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def dependencies(name: str, source: str, known: set[str], *, is_package: bool) -> set[str]:
    """The ``app`` modules that module ``name`` imports, anywhere in its ``source``."""
    found: set[str] = set()
    for node in _imports(ast.parse(source, name)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from package import submodule`` depends on the submodule itself.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        for target in targets:
            while target and target not in known:  # ``import app.x.y`` of a name inside y
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: dependencies(name, path.read_text(), known,
                               is_package=path.name == "__init__.py")
            for name, path in found.items()}


def tangles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module: each module of one
    reaches every other through imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan; the graph is small enough for recursion
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a path back to its start) per tangle."""
    return [_cycle_in(component, graph) for component in tangles(graph)]


def _cycle_in(component: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest path from the component's first module back to itself."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & component):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    raise AssertionError(f"no cycle in {component}")


def test_the_graph_reader_sees_relative_deferred_and_submodule_imports():
    known = {"app", "app.a", "app.a.b", "app.a.c", "app.d"}
    source = ("from .b import x\nfrom . import c\nfrom .. import d\n"
              "def f():\n    import app.a.b.thing\n")
    assert dependencies("app.a", source, known, is_package=True) == {"app.a.b", "app.a.c",
                                                                      "app.d"}
    assert dependencies("app.a.c", "from . import b\nfrom .b import x\n", known,
                        is_package=False) == {"app.a.b"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_a_module_that_imports_it_back():
    graph = import_graph()
    found = tangles(graph)
    assert found == [], "import cycles:\n" + "\n".join(
        f"{' -> '.join(_cycle_in(component, graph))}  (tangled: {', '.join(sorted(component))})"
        for component in found)


_IMPORT_EACH_FIRST = r"""
import importlib, json, os, sys, traceback
names = json.loads(sys.argv[1])
for library in json.loads(sys.argv[2]):
    try:
        importlib.import_module(library)
    except Exception:
        pass  # an optional library: the module that needs it will say so
failures = {}
for name in names:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(name)
            code = 0
        except BaseException:
            os.write(write, traceback.format_exc().encode())
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        output = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if status:
        failures[name] = output or f"exit status {status}"
print(json.dumps(failures))
"""


def third_party_libraries() -> list[str]:
    names = set()
    for path in modules().values():
        for node in _imports(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.level or not node.module):
                continue
            roots = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""])
            names.update(root.split(".")[0] for root in roots)
    return sorted(names - {"app", "__future__"})


def _run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=240,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                               "VITRINE_CONFIG": "testing"})


def test_every_module_imports_as_the_first_module_of_a_fresh_interpreter():
    names = sorted(modules())
    result = _run(_IMPORT_EACH_FIRST, json.dumps(names), json.dumps(third_party_libraries()))
    assert result.returncode == 0, result.stderr
    failures = json.loads(result.stdout.strip().splitlines()[-1])
    assert failures == {}, "\n\n".join(f"import {name}:\n{error}"
                                       for name, error in failures.items())


def test_all_modules_import_in_one_interpreter_in_either_order():
    names = sorted(modules())
    for order in (names, names[::-1]):
        result = _run("import importlib, sys\nfor name in sys.argv[1:]:\n"
                      "    importlib.import_module(name)\n", *order)
        assert result.returncode == 0, result.stderr


def test_templates_write_the_csrf_field_through_the_macro():
    """One ``csrf_field()`` macro renders the hidden token; no template writes it by hand."""
    by_hand = [str(path.relative_to(ROOT)) for path in TEMPLATES.rglob("*.html")
               if path.name != "macros.html" and 'name="csrf_token"' in path.read_text()]
    assert by_hand == []
