"""certkit's layering as a test (in the spirit of tempest's hacking rules T112/T114): every module
imports only its own layer or the layers below it, no two modules or packages import each other
in a cycle, and the suites reach the driver only through the contract layer (`Resources` and
its families), never the ledger, the pytest plugin or the schema checker.

LAYERS is the one definition of the layer order, and docs/contributing/layering.md shows it (a
test keeps the two equal). Its units are certkit's top-level modules and packages, never a
module inside a package: a package is one unit, so a package importing a module that imports
the package back is a cycle even when no two modules import each other.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # lowest first
    ("base", ("certkit", "certkit.errors", "certkit.text", "certkit.waiting", "certkit.files",
              "certkit.deadlines", "certkit.dotted", "certkit.schemas", "certkit.redaction",
              "certkit.pyinstall")),
    ("manila and schemas", ("certkit.manila_env", "certkit.schema_check")),
    ("catalogue", ("certkit.catalogue", "certkit.manila_abc")),
    ("profile", ("certkit.profile",)),
    ("harness", ("certkit.harness", "certkit.clienthost", "certkit.nfsclient", "certkit.nfs_helper")),
    ("contract", ("certkit.contract", "certkit.check_catalogue", "certkit.datapath", "certkit.scale",
                  "certkit.apitier", "certkit.explore")),
    ("session", ("certkit.session",)),
    ("verdict", ("certkit.verdict",)),
    ("plugin, report, audit", ("certkit.pytest_plugin", "certkit.plugin", "certkit.report",
                               "certkit.audit")),
    ("runner", ("certkit.runner",)),
    ("capabilities", ("certkit.lab", "certkit.ci", "certkit.dashboard", "certkit.livestack",
                      "certkit.publish", "certkit.zuullab")),
    ("commands", ("certkit.commands",)),
    ("cli", ("certkit.cli",)),
)

SUITES_MUST_NOT_IMPORT = ("certkit.harness.ledger", "certkit.pytest_plugin", "certkit.session",
                          "certkit.runner", "certkit.schema_check")
"""Plugin internals, the ledger and the schema checker: suites go through Resources."""
SUITES_MUST_NOT_USE = {"ledger", "entries", "track", "expect_schema", "RUN_KEY", "stash"}
"""Names and attributes a suite never touches (they belong to the resource layer and plugin)."""
SUITES_HIGHEST_LAYER = "contract"


def _layer_index() -> dict[str, int]:
    return {unit: i for i, (_, units) in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str | None:
    """The unit (top-level module or package of certkit) a module belongs to, if LAYERS has it."""
    parts = module.split(".")
    unit = ".".join(parts[:2])
    return unit if parts[0] == "certkit" and unit in _layer_index() else None


def units_in_code() -> set[str]:
    """certkit's top-level modules and packages, as they are on disk."""
    return {".".join(m.split(".")[:2]) for m in certkit_graph()}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(top: str) -> list[Path]:
    return sorted(p for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts)


def imports_of(path: Path, known: set[str]) -> list[tuple[str, int]]:
    """(imported certkit module, line) for every import in a file, lazy ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((sub if sub in known else base, node.lineno))
    wanted = [(name, line) for name, line in found if name == "certkit" or name.startswith("certkit.")]
    return list(dict.fromkeys(wanted))


@lru_cache(maxsize=1)
def certkit_graph() -> dict[str, list[tuple[str, int]]]:
    files = {module_name(p): p for p in source_files("certkit")}
    known = set(files)
    return {name: imports_of(path, known) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of a directed graph, as a path that returns to its start, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_every_module_has_a_layer():
    unplaced = [m for m in certkit_graph() if unit_of(m) is None]
    assert not unplaced, (f"modules in no layer: {unplaced}; add them (or their package) to "
                          "LAYERS in tests/test_layering.py")


def test_layers_list_packages_that_exist():
    """A module inside a package cannot be placed apart from its package (that hid a cycle)."""
    listed = set(_layer_index())
    assert sum(len(units) for _, units in LAYERS) == len(listed), "a unit is listed twice"
    assert listed <= units_in_code(), (f"LAYERS lists what is not a top-level module or package "
                                       f"of certkit: {sorted(listed - units_in_code())}")


def upward_imports(graph: dict[str, list[tuple[str, int]]]) -> list[str]:
    """Every import of a module from a layer above its own, as a sentence."""
    index = _layer_index()
    problems = []
    for module, imports in graph.items():
        mine = unit_of(module)
        for target, line in imports:
            theirs = unit_of(target)
            if mine and theirs and index[theirs] > index[mine]:
                problems.append(f"{module} (layer {LAYERS[index[mine]][0]!r}) imports {target} "
                                f"(layer {LAYERS[index[theirs]][0]!r}, above it) at line {line}")
    return problems


def test_no_upward_imports():
    problems = upward_imports(certkit_graph())
    assert not problems, "\n".join(problems)


def test_upward_import_checker_flags_what_it_must():
    """The checker itself: the library importing the CLI is flagged, the reverse is not."""
    flagged = upward_imports({"certkit.harness.driver": [("certkit.cli", 3)],
                              "certkit.cli": [("certkit.harness.driver", 9)],
                              "certkit.ci.zuul": [("certkit.runner", 5)]})
    assert flagged == ["certkit.harness.driver (layer 'harness') imports certkit.cli "
                       "(layer 'cli', above it) at line 3"]


def package_edges(graph: dict[str, list[tuple[str, int]]]) -> dict[tuple[str, str], str]:
    """(unit, unit it imports) -> the first module import behind that edge, as a sentence."""
    edges: dict[tuple[str, str], str] = {}
    for module, imports in sorted(graph.items()):
        for target, line in imports:
            a, b = unit_of(module), unit_of(target)
            if a and b and a != b:
                edges.setdefault((a, b), f"{module} imports {target} at line {line}")
    return edges


def package_cycle(graph: dict[str, list[tuple[str, int]]]) -> str | None:
    """A cycle between certkit's packages and top-level modules, each step with its module pair."""
    edges = package_edges(graph)
    units: dict[str, set[str]] = {}
    for a, b in edges:
        units.setdefault(a, set()).add(b)
    cycle = find_cycle(units)
    if cycle is None:
        return None
    steps = [edges[(a, b)] for a, b in zip(cycle, cycle[1:])]
    return " -> ".join(cycle) + " (" + "; ".join(steps) + ")"


def test_no_import_cycles_between_modules():
    graph = certkit_graph()
    modules = {m: {t for t, _ in imports if t in graph and t != m} for m, imports in graph.items()}
    cycle = find_cycle(modules)
    assert cycle is None, "module import cycle: " + " -> ".join(cycle)


def test_no_import_cycles_between_packages():
    cycle = package_cycle(certkit_graph())
    assert cycle is None, "package import cycle: " + cycle


def test_package_cycle_checker_sees_the_cycle_no_module_pair_has():
    """The checker itself: the old loop, profile -> harness.timeouts and harness.driver ->
    profile, is no module cycle but is a package cycle, named with both module imports."""
    graph = {"certkit.profile": [("certkit.harness.timeouts", 16)],
             "certkit.harness.timeouts": [],
             "certkit.harness.driver": [("certkit.profile", 12)],
             "certkit.cli": [("certkit.profile", 3)]}
    modules = {m: {t for t, _ in imports} for m, imports in graph.items()}
    assert find_cycle(modules) is None
    assert package_cycle(graph) == (
        "certkit.profile -> certkit.harness -> certkit.profile (certkit.profile imports "
        "certkit.harness.timeouts at line 16; certkit.harness.driver imports certkit.profile at "
        "line 12)")
    assert package_cycle({"certkit.cli": [("certkit.profile", 3)], "certkit.profile": []}) is None


def test_find_cycle_finds_the_cycle_the_issue_reported():
    """The checker itself: the old profile -> catalogue -> ... -> harness -> profile loop."""
    graph = {"certkit.profile": {"certkit.contract"}, "certkit.contract": {"certkit.harness"},
             "certkit.harness": {"certkit.profile"}, "certkit.cli": {"certkit.profile"}}
    assert find_cycle(graph) == ["certkit.profile", "certkit.contract", "certkit.harness",
                                 "certkit.profile"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("path", source_files("suites"), ids=lambda p: str(p.relative_to(ROOT)))
def test_suites_go_through_the_resource_layer(path):
    graph_known = set(certkit_graph())
    index = _layer_index()
    highest = next(i for i, (name, _) in enumerate(LAYERS) if name == SUITES_HIGHEST_LAYER)
    problems = []
    for target, line in imports_of(path, graph_known):
        unit = unit_of(target)
        if any(target == bad or target.startswith(bad + ".") for bad in SUITES_MUST_NOT_IMPORT):
            problems.append(f"line {line}: imports {target}")
        elif unit is not None and index[unit] > highest:
            problems.append(f"line {line}: imports {target}, above the {SUITES_HIGHEST_LAYER} layer")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        name = (node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name)
                else node.name if isinstance(node, ast.alias) else None)
        if name in SUITES_MUST_NOT_USE:
            problems.append(f"line {getattr(node, 'lineno', '?')}: uses {name}")
    assert not problems, f"{path.relative_to(ROOT)} goes around Resources: " + "; ".join(problems)


LAYERING_DOC = ROOT / "docs" / "contributing" / "layering.md"


def layers_as_markdown() -> str:
    """LAYERS as the numbered list docs/contributing/layering.md shows."""
    return "\n".join(f"{n}. **{name}**: " + ", ".join(f"`{unit}`" for unit in units)
                     for n, (name, units) in enumerate(LAYERS, 1))


def test_the_layering_page_shows_the_layers_the_test_enforces():
    text = LAYERING_DOC.read_text(encoding="utf-8")
    start, end = "<!-- layers: checked by tests/test_layering.py -->\n", "\n<!-- end of layers -->"
    assert start in text and end in text, f"{LAYERING_DOC}: the layer list's markers are missing"
    shown = text.split(start, 1)[1].split(end, 1)[0].strip()
    assert shown == layers_as_markdown(), (f"{LAYERING_DOC} differs from LAYERS; its list must "
                                           f"read:\n{layers_as_markdown()}")
