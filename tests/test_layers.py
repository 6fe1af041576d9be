"""The house's layers (CONTRIBUTING.md): imports point down only, and nothing cycles.

Read from the sources with ``ast`` (every ``import``/``from … import``, including the
lazy ones inside functions, and ``importlib.import_module`` of a constant string), so a
back edge cannot hide behind a deferred import. Modules of the top-level ``screens/``
folder are named ``kubectl_certdoctor.screens.*``, as setuptools installs them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = "kubectl_certdoctor"

#: bottom first; a module may import from its own layer and the ones before it
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("model", ("objects", "errors", "options", "kinds", "versions", "noproxy", "redact",
               "backoff", "status", "requestmatch", "heap")),
    ("cluster access", ("cluster", "bundle", "scenarios")),
    ("object graph", ("graph", "graph_patch")),
    ("diagnosis", ("rules", "analysis", "report", "timeline")),
    ("probes", ("probes",)),
    ("fixes", ("fixes",)),
    ("data source", ("source",)),
    ("ui", ("widgets", "screens", "app", "keymap")),
    ("commands", ("commands", "completion", "cli", "entry", "__main__")),
]
#: diagnosis must stay pure: no module here may import the network or the cluster
PURE = ("graph", "graph_patch", "rules", "analysis", "report", "timeline")
IO_MODULES = ("cluster.connection", "cluster.store", "cluster.watch", "cluster.podlogs",
              "source", "probes", "fixes.execute")
#: allowed exceptions, each with its reason (keep this empty if you can)
ALLOWED: dict[tuple[str, str], str] = {
    # which Secrets an object names: a pure function shared by the store (what to fetch)
    # and graph_patch (which chains a Secret change touches)
    ("graph_patch", "cluster.secretrefs"): "pure helper",
}


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for base in (PKG, "screens"):
        for p in (ROOT / base).rglob("*.py"):
            parts = list(p.relative_to(ROOT).with_suffix("").parts)
            if base == "screens":
                parts = [PKG, *parts]
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = p
    return out


MODULES = _modules()


def _short(mod: str) -> str:
    return mod[len(PKG) + 1:] if mod.startswith(PKG + ".") else mod


def _typing_only(tree: ast.AST) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks (annotations only)."""
    out: set[int] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.If) and isinstance(n.test, ast.Name) \
                and n.test.id == "TYPE_CHECKING":
            for stmt in n.body:
                out |= {id(x) for x in ast.walk(stmt)}
    return out


def _imports(path: Path, *, typing: bool = True) -> set[str]:
    """The package modules ``path`` imports; without ``typing``, the ones it imports at
    run time only (a cycle through annotations alone never runs)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set() if typing else _typing_only(tree)
    found: set[str] = set()
    for n in ast.walk(tree):
        if id(n) in skip:
            continue
        if isinstance(n, ast.ImportFrom) and n.module and n.level == 0 \
                and n.module.startswith(PKG):
            for a in n.names:
                sub = f"{n.module}.{a.name}"
                found.add(sub if sub in MODULES else n.module)
        elif isinstance(n, ast.Import):
            found |= {a.name for a in n.names if a.name.startswith(PKG)}
        elif isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "import_module" \
                and n.args and isinstance(n.args[0], ast.Constant) \
                and str(n.args[0].value).startswith(PKG):
            found.add(str(n.args[0].value))
    return {m for m in found if m in MODULES and m != PKG}


EDGES = {_short(m): {_short(t) for t in _imports(p)} for m, p in MODULES.items() if m != PKG}
RUNTIME_EDGES = {_short(m): {_short(t) for t in _imports(p, typing=False)}
                 for m, p in MODULES.items() if m != PKG}


def layer_of(mod: str) -> int:
    head = mod.split(".")[0]
    for i, (_, members) in enumerate(LAYERS):
        if head in members or mod in members:
            return i
    raise AssertionError(f"{mod} is in no layer: add it to LAYERS in tests/test_layers.py")


def test_every_module_has_a_layer() -> None:
    for mod in EDGES:
        layer_of(mod)


def test_imports_point_down() -> None:
    up = sorted(f"{m} ({LAYERS[layer_of(m)][0]}) imports {t} ({LAYERS[layer_of(t)][0]})"
                for m, targets in EDGES.items() for t in targets
                if layer_of(t) > layer_of(m) and (m, t) not in ALLOWED)
    assert up == []


def test_diagnosis_imports_no_io() -> None:
    bad = sorted(f"{m} imports {t}" for m, targets in EDGES.items()
                 if m.split(".")[0] in PURE for t in targets
                 if any(t == io or t.startswith(io + ".") for io in IO_MODULES))
    assert bad == []


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components: every component of more than one module
    is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    """Over the run-time module graph (package ``__init__`` re-exports included)."""
    assert cycles(RUNTIME_EDGES) == []


def test_cycles_are_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("mod", ["analysis", "rules"])
def test_the_check_is_not_blind(mod: str) -> None:
    """The scanner itself sees the imports it must judge (a broken scan passes all)."""
    assert EDGES[mod], f"no imports found for {mod}"
    assert any(t.startswith("graph") for t in EDGES[mod])
