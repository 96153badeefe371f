"""Our modules: they import each other without a cycle (top-level and function-level imports
alike), and each package's docstring names every module it holds."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gradients", "bench")


def module_names():
    """{dotted name: path} of every module of our packages (a package is its __init__.py)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(name, path, modules):
    """The modules of ours that `name` imports anywhere in its file, each with its first line there.

    Only imports written out count: importing bench.sweep.points also runs bench/sweep/__init__.py,
    but a package importing its own modules is no cycle for that.
    """
    out = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert not node.level, f"{path}:{node.lineno}: a relative import (ours are absolute)"
            # `from bench import guard` imports the module bench.guard; `from bench.x import f`,
            # the module bench.x
            base = node.module
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            if target in modules and target != name:
                out[target] = min(out.get(target, node.lineno), node.lineno)
    return out


def graph():
    modules = module_names()
    return {name: imported(name, path, modules) for name, path in modules.items()}


def find_cycle(edges):
    """One cycle of the graph as a list of its modules (the first repeated at the end), or None."""
    state = {}  # name -> "open" while on the path, "done" once every module under it is checked
    path = []

    def visit(name):
        state[name] = "open"
        path.append(name)
        for target in sorted(edges.get(name, ())):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[name] = "done"
        path.pop()
        return None

    for name in sorted(edges):
        if name not in state and (cycle := visit(name)):
            return cycle
    return None


def test_our_modules_import_each_other_without_a_cycle():
    edges = graph()
    cycle = find_cycle(edges)
    if cycle:
        steps = [f"{a} (line {edges[a][b]}) -> {b}" for a, b in zip(cycle, cycle[1:])]
        pytest.fail("import cycle: " + "; ".join(steps))


def test_the_graph_sees_top_level_function_level_and_from_package_imports():
    edges = graph()
    assert "gradients.registry" in edges["gradients"]  # top level, `from gradients import registry`
    assert "bench.train.plot" in edges["bench.train"]  # inside a function (matplotlib on demand)
    assert "bench.guard" in edges["bench.sweep.loop"]  # `from bench import guard, output`
    assert "bench.plot" in edges["bench.pipeline"]  # `from bench import plot as plotting`


def test_find_cycle_reports_a_cycle_and_passes_a_graph_without_one():
    assert find_cycle({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": 1, "c": 1}, "b": {"c": 1}, "c": {}}) is None


def packages():
    return [p.parent for package in PACKAGES for p in sorted((ROOT / package).rglob("__init__.py"))]


@pytest.mark.parametrize("folder", packages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_a_package_docstring_names_each_of_its_modules(folder):
    doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text())) or ""
    names = [p.stem for p in sorted(folder.glob("*.py")) if p.stem != "__init__"]
    names += [p.name for p in sorted(folder.iterdir()) if (p / "__init__.py").is_file()]
    missing = [n for n in names if not re.search(rf"\b{n}\b", doc)]
    assert not missing, f"{folder.name}/__init__.py's docstring does not name {missing}"
