"""The layers contract: which part of fer-bench may import which (docs/architecture.md).

``LAYERS`` runs from the command line down to plain vocabulary. A module may import
modules of its own group and of any lower layer; never a higher layer, and never a
sibling group of its own layer (``"probes | records"``: independent of each other).
Every import statement counts, also one inside a function or under ``TYPE_CHECKING``:
a lazy import moves the cost of a dependency, not the dependency. Two exceptions: the
package root ``fer_bench`` itself (``__version__`` and the lazy Python API), which every
``fer_bench.*`` import runs anyway, and a module's ``if __name__ == "__main__":`` block,
which runs only when the file is the program (``python -m ...``), never for an importer.
Besides the layers, no two modules may import each other, directly or round a loop.

The graph is read from the source with ``ast`` (nothing is imported), over the three
folders that install as ``fer_bench``: ``fer_bench/``, ``encoders/`` and ``protocols/``
(import-linter's grimp walks only ``fer_bench/`` and would miss the other two).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Import name -> folder, as [tool.setuptools.package-dir] in pyproject.toml maps them.
ROOTS = {"fer_bench": REPO / "fer_bench", "fer_bench.encoders": REPO / "encoders",
         "fer_bench.protocols": REPO / "protocols"}

# Top to bottom; "a | b" are independent groups of one layer.
LAYERS = (
    "cli",
    "api",
    "runner | pretrain",
    "reporting",
    "protocols",
    "audit",
    "probes | records",
    "features",
    "encoders",
    "datasets",
    "images",
    "synth",
    "metrics | splits | plugins",
    "vocabulary | paths | suggest | runtime",
)
# Group -> the modules it holds (a name covers its sub-modules).
GROUPS = {
    "cli": ("fer_bench.cli",),
    "api": ("fer_bench.api",),
    "runner": ("fer_bench.runner",),
    "pretrain": ("fer_bench.pretrain",),
    "reporting": ("fer_bench.reporting",),
    "protocols": ("fer_bench.protocols",),
    "audit": ("fer_bench.audit",),
    "probes": ("fer_bench.probes",),
    "records": ("fer_bench.records",),
    "features": ("fer_bench.features",),
    "encoders": ("fer_bench.encoders", "fer_bench.encoder", "fer_bench.encoder_registry",
                 "fer_bench.encoder_catalogue", "fer_bench.check_encoder", "fer_bench.fetch",
                 "fer_bench.encoder_pool",
                 "fer_bench.weights"),
    "datasets": ("fer_bench.datasets",),
    "images": ("fer_bench.images",),
    "synth": ("fer_bench.synth",),
    "metrics": ("fer_bench.metrics", "fer_bench.target_metrics"),
    "splits": ("fer_bench.splits",),
    "vocabulary": ("fer_bench.vocabulary",),
    "paths": ("fer_bench.paths",),
    "suggest": ("fer_bench.suggest",),
    "plugins": ("fer_bench.plugins",),
    "runtime": ("fer_bench.runtime",),
}
ROOT_PACKAGE = "fer_bench"


@dataclass(frozen=True)
class Import:
    source: str      # importing module
    target: str      # imported fer_bench module
    where: str       # path:line of the statement

    def __str__(self) -> str:
        return f"{self.where}: {self.source} imports {self.target}"


def find_modules() -> dict[str, Path]:
    modules = {}
    for root, folder in ROOTS.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join((root, *parts))] = path
    return modules


def _is_main_block(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) in (
        "__name__ == '__main__'", "'__main__' == __name__")


def _statements(tree: ast.Module):
    """Every node of a module but its ``if __name__ == "__main__":`` block."""
    for top in tree.body:
        if not _is_main_block(top):
            yield from ast.walk(top)


def read_imports(modules: dict[str, Path]) -> list[Import]:
    """Every import of a fer_bench module, at any depth of the source."""
    found: set[Import] = set()
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _statements(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                # "from package import module" names the module; otherwise the package
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            else:
                continue
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            for target in targets:
                while target not in modules and "." in target:
                    target = target.rpartition(".")[0]
                if target in modules and target != name:
                    found.add(Import(name, target, where))
    return sorted(found, key=lambda imp: (imp.where, imp.target))


def group_of(module: str) -> str | None:
    best = None
    for group, names in GROUPS.items():
        for n in names:
            if (module == n or module.startswith(n + ".")) and (best is None or
                                                                 len(n) > len(best[1])):
                best = (group, n)
    return best[0] if best else None


def layer_of(group: str) -> int:
    return next(i for i, layer in enumerate(LAYERS)
                if group in (g.strip() for g in layer.split("|")))


def layer_violations(imports: list[Import]) -> list[str]:
    bad = []
    for imp in imports:
        if imp.target == ROOT_PACKAGE:
            continue
        src, dst = group_of(imp.source), group_of(imp.target)
        if src is None or dst is None or src == dst:
            continue
        if layer_of(dst) < layer_of(src):
            bad.append(f"{imp}: {src} (layer {layer_of(src)}) may not import {dst}, "
                       f"a higher layer ({layer_of(dst)})")
        elif layer_of(dst) == layer_of(src):
            bad.append(f"{imp}: {src} and {dst} are independent groups of one layer")
    return bad


def import_cycles(imports: list[Import]) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan), each a list of 2+ modules."""
    edges: dict[str, set[str]] = {}
    for imp in imports:
        if imp.target != ROOT_PACKAGE:
            edges.setdefault(imp.source, set()).add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
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

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return cycles


def test_every_module_has_a_layer():
    groups = {g.strip() for layer in LAYERS for g in layer.split("|")}
    assert groups == set(GROUPS), "LAYERS and GROUPS name different groups"
    modules = find_modules()
    loose = [m for m in modules if m != ROOT_PACKAGE and group_of(m) is None]
    assert not loose, (f"modules in no layer: {loose}; add them to GROUPS in "
                       f"tests/test_layers.py and to docs/architecture.md")
    empty = [n for names in GROUPS.values() for n in names
             if not any(m == n or m.startswith(n + ".") for m in modules)]
    assert not empty, f"GROUPS names modules that do not exist: {empty}"


def test_no_import_reaches_up_or_across():
    bad = layer_violations(read_imports(find_modules()))
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_no_import_cycles():
    imports = read_imports(find_modules())
    cycles = import_cycles(imports)
    lines = []
    for cycle in cycles:
        lines.append(" <-> ".join(cycle))
        lines += [f"    {imp}" for imp in imports if imp.source in cycle and imp.target in cycle]
    assert not cycles, "modules that import each other:\n" + "\n".join(lines)


def test_the_contract_sees_a_violation():
    # A check that can never fail proves nothing: an images -> datasets import must be caught.
    fake = Import("fer_bench.images.decode", "fer_bench.datasets.base", "x.py:1")
    assert layer_violations([fake])
    loop = [Import("fer_bench.paths", "fer_bench.suggest", "a.py:1"),
            Import("fer_bench.suggest", "fer_bench.paths", "b.py:1")]
    assert import_cycles(loop) == [["fer_bench.paths", "fer_bench.suggest"]]
