"""The package's layers import one way: down, never up, never in a circle.

Every import in `appliance/` counts, the ones inside functions too (a lazy
import that runs up is still a dependency that runs up); only imports under
`if TYPE_CHECKING:` are left out, since they never run. The table below is
the architecture (docs/architecture.md, "Package map"): a module may import
its own layer and the layers below it; the packages of one layer must not
import each other in a circle, and no module may reach itself again.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import appliance

LAYERS: tuple[tuple[str, ...], ...] = (
    # the foundation: errors, the message vocabulary, settings and config, files, model files
    ("appliance", "appliance.offline", "appliance.errors", "appliance.messages", "appliance.settings",
     "appliance.outputs", "appliance.levels", "appliance.audiofile", "appliance.config", "appliance.models"),
    # the parts: sound devices, the listening path, GPIO/systemd, speech in and out
    ("appliance.audio", "appliance.listen", "appliance.device", "appliance.speech"),
    # the conversation: turns, history, replies, the LLM, its events
    ("appliance.agent",),
    # what the kiosk may say: site facts, retrieval, grounding, the answer path (uses agent.history)
    ("appliance.knowledge",),
    # running it: pipeline, service, simulator, soak, screen, doctor
    ("appliance.runtime",),
    # measuring it
    ("appliance.bench",),
    # entry points: the CLI and its commands, the ASR evaluation (reuses `appliance transcribe`)
    ("appliance.commands", "appliance.cli", "appliance.__main__", "appliance.evaluation"),
)

PACKAGE_ROOT = Path(appliance.__file__).resolve().parent


def module_name(path: Path, root: Path = PACKAGE_ROOT) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST) -> Iterable[ast.AST]:
    """Every node except those under `if TYPE_CHECKING:` (imports for annotations only)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in ast.walk(child))
            continue
        yield node
        yield from _runtime_nodes(node)


def imports_of(module: str, source: str, is_package: bool, known: set[str]) -> set[str]:
    """The project modules `module` imports (`from a import b` counts `a.b` when that is a module)."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        found.update(t for t in targets if t in known and t != module)
    return found


def import_graph(root: Path = PACKAGE_ROOT) -> dict[str, set[str]]:
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    known = set(files)
    return {name: imports_of(name, path.read_text(encoding="utf-8"), path.name == "__init__.py", known)
            for name, path in files.items()}


def component(module: str, layers: tuple[tuple[str, ...], ...] = LAYERS) -> tuple[int, str]:
    """The layer index and the package (or top-level module) that `module` belongs to."""
    best: tuple[int, str] | None = None
    for index, names in enumerate(layers):
        for name in names:
            inside = module == name or module.startswith(name + ".")
            if inside and (best is None or len(name) > len(best[1])):
                best = (index, name)
    if best is None:
        raise AssertionError(f"{module}: in no layer of tests/test_layers.py; add it where it belongs")
    return best


def _cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as a path that returns to its start, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def violations(graph: Mapping[str, set[str]], layers: tuple[tuple[str, ...], ...] = LAYERS) -> list[str]:
    """Every import that runs up a layer, and one circle of modules and of packages if there is one."""
    problems = []
    packages: dict[str, set[str]] = {}
    for module, targets in sorted(graph.items()):
        layer, package = component(module, layers)
        for target in sorted(targets):
            target_layer, target_package = component(target, layers)
            if target_layer > layer:
                problems.append(f"{module} imports {target}: up from {package} to {target_package}")
            if target_package != package:
                packages.setdefault(package, set()).add(target_package)
    for kind, circle in (("modules", _cycle(graph)), ("packages", _cycle(packages))):
        if circle:
            problems.append(f"{kind} import in a circle: {' -> '.join(circle)}")
    return problems


def test_the_package_imports_one_way():
    graph = import_graph()
    assert len(graph) > 80, "the walk found too few modules to be the package"
    assert violations(graph) == []


def test_an_import_that_runs_up_or_in_a_circle_is_caught():
    layers = (("p.low",), ("p.high",))
    assert violations({"p.low.a": {"p.low.b"}, "p.low.b": set(), "p.high.c": {"p.low.a"}}, layers) == []
    upward = violations({"p.low.a": {"p.high.c"}, "p.high.c": set()}, layers)
    assert upward and "up from p.low to p.high" in upward[0]
    circle = violations({"p.low.a": {"p.low.b"}, "p.low.b": {"p.low.a"}}, layers)
    assert circle == ["modules import in a circle: p.low.a -> p.low.b -> p.low.a"]
    sideways = violations({"p.low.x.a": {"p.low.y.b"}, "p.low.y.c": {"p.low.x.d"},
                           "p.low.x.d": set(), "p.low.y.b": set()},
                          (("p.low.x", "p.low.y"),))
    assert sideways == ["packages import in a circle: p.low.x -> p.low.y -> p.low.x"]


def test_lazy_imports_count_and_type_checking_ones_do_not():
    source = ("from typing import TYPE_CHECKING\n"
              "if TYPE_CHECKING:\n    from p.high import c\n"
              "def f():\n    from p.high import d\n")
    assert imports_of("p.low.a", source, False, {"p.high", "p.high.c", "p.high.d"}) == {"p.high.d"}


def test_relative_and_module_imports_resolve():
    source = "from . import b\nfrom .. import y\nfrom p.low import b as also\nimport p.high\n"
    known = {"p", "p.low", "p.low.b", "p.y", "p.high"}
    assert imports_of("p.low.a", source, False, known) == {"p.low.b", "p.y", "p.high"}
