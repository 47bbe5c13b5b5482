"""The share manager's real calls into a driver, read from the installed Manila's source with
`ast` (never typed by hand): every `self.driver.<method>(...)` in the share service, and every
`self.<method>(...)` the ShareDriver base class makes on itself."""

from __future__ import annotations

import ast
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

# Modules of the share service that call into the driver (relative to the manila package).
CALLER_MODULES = ("share/manager.py", "share/access.py", "share/snapshot_access.py",
                  "share/migration.py", "share/api.py", "share/hooks/__init__.py")
BASE_MODULE = "share/driver.py"
# Words in an `if` test that make a call site depend on the driver's own mode or capability.
_DRIVER_GUARDS = ("self.driver", "driver_handles_share_servers", "dhss", "hasattr(")


@dataclass(frozen=True)
class CallShape:
    """One call site: how many positional arguments, which keyword names, where."""

    method: str
    positional: int
    keywords: tuple[str, ...]
    file: str
    line: int
    conditional: bool
    """In an except handler, or under an `if` on the driver's mode/capabilities."""
    guard: str = ""
    star: bool = False
    """The call unpacks *args or **kwargs: its shape cannot be judged statically."""

    @property
    def site(self) -> str:
        """`manila/share/manager.py:1234`."""
        return f"{self.file}:{self.line}"

    def describe(self) -> str:
        """`create_share(3 positional, share_server=)`."""
        parts = [f"{self.positional} positional"] + [f"{k}=" for k in self.keywords]
        return f"{self.method}({', '.join(parts)})"

    def to_json(self) -> dict[str, Any]:
        """JSON form (audit.schema.json, `call_shapes`)."""
        return {"method": self.method, "positional": self.positional, "keywords": list(self.keywords),
                "site": self.site, "conditional": self.conditional, "guard": self.guard,
                "star": self.star}


def _manila_root() -> Path:
    from certkit.manila_abc import share_driver_abc

    import manila

    share_driver_abc()
    return Path(manila.__file__).parent


def dotted(node: ast.AST) -> str | None:
    """`self.driver` for a chain of names and attributes; None for anything else (cheap)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _guard_word(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id in ("self", "hasattr") or "dhss" in node.id
    if isinstance(node, ast.Attribute):
        return node.attr in ("driver", "driver_handles_share_servers") or "dhss" in node.attr
    return False


class _Collector(ast.NodeVisitor):
    """Walks one module; `receiver` decides which calls are calls into the driver."""

    def __init__(self, rel: str, receiver: str, names: frozenset[str] | None) -> None:
        self.rel, self.receiver, self.names = rel, receiver, names
        self.shapes: list[CallShape] = []
        self._guards: list[str] = []

    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        guard = ""
        if any(_guard_word(n) for n in ast.walk(node.test)):
            test = ast.unparse(node.test)
            guard = test if any(word in test for word in _DRIVER_GUARDS) else ""
        for branch, text in ((node.body, guard), (node.orelse, f"not ({guard})" if guard else "")):
            self._guards.append(text)
            for child in branch:
                self.visit(child)
            self._guards.pop()

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        kind = ast.unparse(node.type) if node.type else "any exception"
        self._guards.append(f"except {kind}")
        self.generic_visit(node)
        self._guards.pop()

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and dotted(func.value) == self.receiver and (
                self.names is None or func.attr in self.names):
            star = any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords)
            guards = [g for g in self._guards if g]
            self.shapes.append(CallShape(
                func.attr, sum(not isinstance(a, ast.Starred) for a in node.args),
                tuple(k.arg for k in node.keywords if k.arg), self.rel, node.lineno,
                bool(guards), guards[-1][:120] if guards else "", star))
        self.generic_visit(node)


def _parse(root: Path, rel: str) -> ast.AST | None:
    path = root / rel
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError):
        return None


def _cache_file(root: Path) -> Path | None:
    """Where the shapes of this exact Manila source are cached (keyed by every source file's
    size and mtime, and by this module's own code); None when no cache directory is usable."""
    base = os.environ.get("CERTKIT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "certkit")
    key = hashlib.sha256(Path(__file__).read_bytes())
    for rel in (*CALLER_MODULES, BASE_MODULE):
        try:
            st = (root / rel).stat()
        except OSError:
            continue
        key.update(f"{root / rel}:{st.st_size}:{st.st_mtime_ns}".encode())
    return Path(base) / f"callshapes-{key.hexdigest()[:24]}.json"


def _load_cached(path: Path | None) -> tuple[CallShape, ...] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path else None
        return tuple(CallShape(d["method"], d["positional"], tuple(d["keywords"]), d["file"], d["line"],
                               d["conditional"], d["guard"], d["star"]) for d in data) if data else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(path: Path | None, shapes: tuple[CallShape, ...]) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps([asdict(s) for s in shapes]), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs the parse next time


@lru_cache(maxsize=None)
def manager_call_shapes() -> tuple[CallShape, ...]:
    """Every call the installed share service makes into a driver, in source order (parsed once
    per Manila installation, then read from the cache)."""
    root = _manila_root()
    cache = _cache_file(root)
    cached = _load_cached(cache)
    if cached is not None:
        return cached
    shapes = _extract(root)
    _store(cache, shapes)
    return shapes


def _extract(root: Path) -> tuple[CallShape, ...]:
    from certkit.manila_abc import share_driver_abc

    abc_names = frozenset(n for n, v in vars(share_driver_abc()).items() if callable(v))
    shapes: list[CallShape] = []
    for rel in CALLER_MODULES:
        tree = _parse(root, rel)
        if tree is not None:
            collector = _Collector(f"manila/{rel}", "self.driver", None)
            collector.visit(tree)
            shapes.extend(collector.shapes)
    tree = _parse(root, BASE_MODULE)
    base = next((n for n in getattr(tree, "body", []) if isinstance(n, ast.ClassDef)
                 and n.name == "ShareDriver"), None)
    if base is not None:
        collector = _Collector(f"manila/{BASE_MODULE}", "self", abc_names)
        collector.visit(base)
        shapes.extend(collector.shapes)
    return tuple(shapes)


@lru_cache(maxsize=None)
def shapes_by_method() -> dict[str, list[CallShape]]:
    """The call shapes grouped by driver method name."""
    grouped: dict[str, list[CallShape]] = {}
    for shape in manager_call_shapes():
        grouped.setdefault(shape.method, []).append(shape)
    return grouped


def delegate_call_shapes(func: Any, attr: str, rel: str) -> list[CallShape]:
    """Calls `self.<attr>.<method>(...)` in one wrapper method (how a driver forwards to its
    plugin, layout or library)."""
    from certkit.audit.source import function_tree

    parsed = function_tree(func)
    if parsed is None:
        return []
    node, start, path = parsed
    collector = _Collector(path, f"self.{attr}", None)
    collector.visit(node)
    return [CallShape(s.method, s.positional, s.keywords, s.file, start + s.line - 1, s.conditional,
                      s.guard, s.star) for s in collector.shapes]
