"""The package's folders are its layers: imports run downward only, and never in a circle.

Read from the source with ``ast`` (every import, including those inside
functions), so a lazy import that climbs a layer counts as much as one at the top.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "renderer"

RANKS = {
    "base": 0,        # errors, models, limits: plain data every layer may use
    "sandbox": 1,     # the Jinja environments, guard, expressions, per-recipient filters
    "sources": 1,     # recommendation sources
    "content": 2,     # the content files: layout, loading, locales, fixtures
    "compile": 3,     # once per template
    "audience": 3,    # features, segments, personas, triggers
    "recipient": 4,   # once per recipient: the hot path
    "engine": 5,      # the Engine, over all of the above
    "batch": 6,       # many recipients, here or on Dask
    "devtools": 6,    # check, gallery, preview, synthetic profiles, screenshots
    "service": 6.5,   # the HTTP render service: over the batch job's records and devtools' schemas
    "api": 7,         # module-level functions over the default engine
    "cli": 8,
    "__init__": 9,
    "__main__": 10,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The renderer modules ``path`` imports, as absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = module_name(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found = set()
    for node in _walk_outside_type_checking(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found |= {f"{name}.{alias.name}" for alias in node.names}
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {name for name in found if name in modules and name != own}


def _walk_outside_type_checking(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:`` (names for type checkers, never imported)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


GRAPH = {module_name(path): imports_of(path) for path in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def test_every_module_has_a_layer():
    assert {layer(m) for m in GRAPH} <= set(RANKS), {layer(m) for m in GRAPH} - set(RANKS)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_run_downward_or_within_the_folder(module):
    upward = sorted(target for target in GRAPH[module]
                    if layer(target) != layer(module) and RANKS[layer(target)] >= RANKS[layer(module)]
                    and layer(target) != "__init__")
    assert not upward, f"{module} imports a layer at or above its own: {upward}"


def test_no_import_cycle():
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH[module]):
            if target == "renderer":
                continue  # the package's lazy names load on first use, not at import
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles


def test_the_checker_sees_a_cycle_and_an_upward_import(tmp_path):
    # The walk above must be able to fail: a package with both defects is caught.
    global GRAPH
    saved = GRAPH
    GRAPH = {"renderer.base.a": {"renderer.engine"}, "renderer.engine": {"renderer.base.a"}}
    try:
        with pytest.raises(AssertionError, match="renderer.engine"):
            test_imports_run_downward_or_within_the_folder("renderer.base.a")
        with pytest.raises(AssertionError, match="renderer.base.a"):
            test_no_import_cycle()
    finally:
        GRAPH = saved


OPTIONAL = ("numpy", "requests", "starlette", "uvicorn", "faker", "dask", "distributed", "watchfiles",
            "pybreaker", "cachetools", "sklearn", "matplotlib", "playwright", "prometheus_client",
            "httpx")
"""What the extras bring; the core install and ``import renderer`` need none of it."""


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({OPTIONAL!r}))))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_import_renderer_loads_none_of_the_optional_libraries():
    assert loaded_after("import renderer") == set()


def test_a_render_loads_no_optional_library_but_premailers_own():
    # premailer, the core's inliner, imports requests and cachetools itself (its own dependencies);
    # nothing else optional loads for a render without personas or a recommendation source.
    code = "import renderer; renderer.render('welcome', profile={'id': 'c1', 'email': 'a@example.com'})"
    assert loaded_after(code) <= {"requests", "cachetools"}
