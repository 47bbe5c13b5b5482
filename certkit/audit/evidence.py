"""Evidence the code itself gives for a back end: which methods really implement something (not a
NotImplementedError stub; a base default body counts), the stats values it writes as literals,
literal access-type and access-level checks on update_access's path, and literal attributes.
What the code cannot show stays unknown."""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

from certkit.audit.backends import Backend
from certkit.audit.callshapes import CallShape, delegate_call_shapes, dotted
from certkit.audit.source import defining_class, function_tree, is_stub, unwrap, where
from certkit.manila_abc import share_driver_abc

COMPUTED = object()
_MAX_HELPERS = 25


@dataclass(frozen=True)
class Literal:
    """A value the code writes literally (or COMPUTED), and where."""

    value: Any
    site: str

    @property
    def computed(self) -> bool:
        """True when the value is an expression only a run can evaluate."""
        return self.value is COMPUTED


@dataclass(frozen=True)
class MethodEvidence:
    """How a back end answers one ABC method."""

    name: str
    state: str
    """override (own code), default (the ABC's valid body), stub, absent, gated (unknown)."""
    site: str
    forwards: tuple[CallShape, ...] = ()

    @property
    def counts(self) -> bool:
        """The method does something (an override or a valid base default)."""
        return self.state in ("override", "default")


def _driver_method(cls: type, name: str) -> tuple[Any, type | None]:
    owner = defining_class(cls, name)
    return (owner.__dict__[name] if owner else None), owner


def _delegate_state(backend: Backend, shapes: list[CallShape]) -> tuple[str, str]:
    """Whether the delegate implements what the wrapper forwards to it."""
    assert backend.delegate is not None
    for shape in shapes:
        func, owner = _driver_method(backend.delegate, shape.method)
        if func is None:
            return "absent", f"{backend.delegate.__name__} has no {shape.method}"
        if is_stub(func):
            return "stub", f"{backend.delegate.__name__}.{shape.method} is a stub ({where(func)})"
        if shape.conditional:
            gate = _gate_value(backend, shape.guard)
            if gate is None:
                return "gated", f"forwarded only when {shape.guard} ({shape.site}): needs a run"
            if not gate.value:
                return "stub", (f"forwarded only when {shape.guard} ({shape.site}); "
                                f"{backend.delegate.__name__} leaves it off ({gate.site})")
    return "override", where(_driver_method(backend.delegate, shapes[0].method)[0])


def method_evidence(backend: Backend, name: str) -> MethodEvidence:
    """Evidence for one ABC method on a back end (delegation followed)."""
    abc = share_driver_abc()
    func, owner = _driver_method(backend.driver, name)
    if func is None:
        return MethodEvidence(name, "absent", "")
    if owner is abc:
        return MethodEvidence(name, "stub" if is_stub(func) else "default", where(func))
    if is_stub(func):
        return MethodEvidence(name, "stub", where(func))
    if backend.delegate is not None and backend.attr:
        parsed = function_tree(func)
        shapes = delegate_call_shapes(func, backend.attr, parsed[2]) if parsed else []
        if shapes:
            state, site = _delegate_state(backend, shapes)
            return MethodEvidence(name, state, site, tuple(shapes))
    return MethodEvidence(name, "override", where(func))


# ----------------------------------------------------------------------------- literals


_SCALARS = (str, bool, int, float, type(None))


def _literal(node: ast.AST, globs: dict[str, Any] | None = None) -> Any:
    """A literal's value; module constants (`constants.REPLICATION_TYPE_DR`, an UPPER_CASE
    global) are resolved through the function's globals; anything else is COMPUTED."""
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = [_literal(e, globs) for e in node.elts]
        return COMPUTED if any(i is COMPUTED for i in items) else items
    if isinstance(node, ast.Name | ast.Attribute) and globs is not None:
        parts = ast.unparse(node).split(".")
        if not parts[-1].isupper():
            return COMPUTED
        value: Any = globs.get(parts[0], COMPUTED)
        for part in parts[1:]:
            value = getattr(value, part, COMPUTED)
        return value if isinstance(value, _SCALARS) else COMPUTED
    return COMPUTED


@dataclass(frozen=True)
class _Scanned:
    """One function's nodes of interest, collected in a single walk (shared by every row)."""

    start: int
    path: str
    globs: dict[str, Any]
    calls: tuple[tuple[str, str], ...]
    """(receiver: `self` / `self.<attr>` / `super()`, method name) of each method call."""
    pairs: tuple[ast.AST, ...]
    compares: tuple[ast.Compare, ...]


@lru_cache(maxsize=None)
def _scan_code(code: Any, func: Any) -> _Scanned | None:
    parsed = function_tree(func)
    if parsed is None:
        return None
    calls, pairs, compares = [], [], []
    for node in ast.walk(parsed[0]):
        if isinstance(node, ast.Compare):
            compares.append(node)
        elif isinstance(node, ast.Dict | ast.Assign):
            pairs.append(node)
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                target = node.func.value
                receiver = dotted(target) or ("super()" if isinstance(target, ast.Call) and isinstance(
                    target.func, ast.Name) and target.func.id == "super" else "")
                if receiver == "self" or receiver == "super()" or receiver.startswith("self."):
                    calls.append((receiver, node.func.attr))
                if node.func.attr == "update":
                    pairs.append(node)
            elif isinstance(node.func, ast.Name) and node.func.id == "dict":
                pairs.append(node)
    return _Scanned(parsed[1], parsed[2], getattr(unwrap(func), "__globals__", {}), tuple(calls),
                    tuple(pairs), tuple(compares))


def _scan(func: Any) -> _Scanned | None:
    code = getattr(unwrap(func), "__code__", None)
    return _scan_code(code, func) if code is not None else None


def _walk_functions(backend: Backend, roots: list[Any]) -> Iterator[_Scanned]:
    """The roots and the helpers they call on self (and on the delegate), scanned."""
    seen: set[int] = set()
    queue = [(r, backend.driver) for r in roots if r is not None]
    while queue and len(seen) < _MAX_HELPERS:
        func, owner_cls = queue.pop(0)
        if id(func) in seen:
            continue
        seen.add(id(func))
        scanned = _scan(func)
        if scanned is None:
            continue
        yield scanned
        for receiver, name in scanned.calls:
            if receiver == "self":
                helper = getattr(owner_cls, name, None)
                if callable(helper) and not isinstance(helper, type):
                    queue.append((helper, owner_cls))
            elif backend.delegate is not None and receiver == f"self.{backend.attr}":
                helper = getattr(backend.delegate, name, None)
                if callable(helper) and not isinstance(helper, type):
                    queue.append((helper, backend.delegate))
            elif receiver == "super()":
                base = next((k for k in owner_cls.__mro__[1:] if name in k.__dict__), None)
                if base is not None and base is not share_driver_abc():
                    queue.append((base.__dict__[name], owner_cls))


def _pairs(node: ast.AST) -> list[tuple[ast.AST, ast.AST]]:
    if isinstance(node, ast.Dict):
        return [(k, v) for k, v in zip(node.keys, node.values) if k is not None]
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript):
        return [(node.targets[0].slice, node.value)]
    if isinstance(node, ast.Call) and (
            (isinstance(node.func, ast.Name) and node.func.id == "dict")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "update")):
        return [(ast.Constant(k.arg), k.value) for k in node.keywords if k.arg]
    return []


def stats_literals(backend: Backend, keys: frozenset[str]) -> dict[str, Literal]:
    """The stats keys the back end's `_update_share_stats` path writes: literal values with their
    line, or COMPUTED where the value is an expression."""
    abc = share_driver_abc()
    func, owner = _driver_method(backend.driver, "_update_share_stats")
    if func is None or owner is abc:
        return {}
    found: dict[str, Literal] = {}
    for scanned in _walk_functions(backend, [func]):
        for node in scanned.pairs:
            for key, value in _pairs(node):
                if isinstance(key, ast.Constant) and key.value in keys and key.value not in found:
                    found[key.value] = Literal(_literal(value, scanned.globs),
                                               f"{scanned.path}:{scanned.start + value.lineno - 1}")
    return found


_ACCESS_FIELDS = {"access_type": "type", "access_level": "level"}


def _field_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return _ACCESS_FIELDS.get(str(node.slice.value))
    if isinstance(node, ast.Attribute):
        return _ACCESS_FIELDS.get(node.attr)
    if isinstance(node, ast.Name):
        return _ACCESS_FIELDS.get(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
        arg = node.args[0]
        return _ACCESS_FIELDS.get(str(arg.value)) if isinstance(arg, ast.Constant) else None
    return None


def access_literals(backend: Backend) -> dict[tuple[str, str], str]:
    """(`type`|`level`, value) -> site, for every literal comparison of a rule's access_type or
    access_level on update_access's path (or allow_access's, for legacy drivers)."""
    roots = [_driver_method(backend.driver, n)[0] for n in ("update_access", "allow_access")]
    roots = [r for r in roots if r is not None and not is_stub(r)]
    found: dict[tuple[str, str], str] = {}
    for scanned in _walk_functions(backend, roots):
        globs, start, path = scanned.globs, scanned.start, scanned.path
        for node in scanned.compares:
            sides = [node.left, *node.comparators]
            kind = next((k for k in map(_field_of, sides) if k), None)
            if kind is None:
                continue
            for side in sides:
                value = _literal(side, globs)
                values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
                for item in values:
                    if isinstance(item, str):
                        found.setdefault((kind, item.lower()), f"{path}:{start + node.lineno - 1}")
    return found


def attribute_literal(backend: Backend, name: str) -> Literal | None:
    """A literal value the driver (or its delegate) gives an attribute: a class attribute or
    `self.<name> = <literal>` in a constructor; None when never set."""
    abc = share_driver_abc()
    for klass in [k for k in backend.driver.__mro__ if k is not abc and k is not object]:
        init = klass.__dict__.get("__init__")
        found = _assigned_in(init, name) if init else None
        if found:
            return found
        if name in klass.__dict__ and not callable(klass.__dict__[name]):
            return Literal(klass.__dict__[name], where(klass) or klass.__module__)
    return None


def _assigned_in(func: Any, name: str) -> Literal | None:
    parsed = function_tree(func)
    if parsed is None:
        return None
    tree, start, path = parsed
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and dotted(node.targets[0]) == f"self.{name}"):
            return Literal(_literal(node.value, getattr(unwrap(func), "__globals__", None)),
                           f"{path}:{start + node.lineno - 1}")
    return None


def _gate_value(backend: Backend, guard: str) -> Literal | None:
    """The delegate's literal for a wrapper's `if self.<flag>:` gate, where the wrapper's
    constructor copies the flag from the delegate (`getattr(self.plugin, 'x', False)`)."""
    if backend.delegate is None or not guard.startswith("self.") or not guard[5:].isidentifier():
        return None
    copied = _assigned_in(backend.driver.__dict__.get("__init__"), guard[5:]) if "__init__" in backend.driver.__dict__ else None
    source_attr = guard[5:]
    if copied is not None and not copied.computed:
        return copied
    delegate_backend = Backend(backend.delegate)
    value = attribute_literal(delegate_backend, source_attr)
    if value is None:
        return Literal(False, f"{backend.delegate.__name__} never sets {source_attr}")
    return None if value.computed else value


def declared_modes(backend: Backend, own: Callable[[type], tuple[bool, ...] | None]) -> tuple[bool, ...] | None:
    """DHSS modes: the driver's literal, else the delegate's `driver_handles_share_servers`."""
    modes = own(backend.driver)
    if modes is not None or backend.delegate is None:
        return modes
    value = attribute_literal(Backend(backend.delegate), "driver_handles_share_servers")
    if value is None or value.computed:
        return None
    if isinstance(value.value, bool):
        return (value.value,)
    if isinstance(value.value, (list, tuple)) and all(isinstance(v, bool) for v in value.value):
        return tuple(value.value)
    return None


@lru_cache(maxsize=None)
def _package_text(package_dir: str) -> str:
    parts = []
    for path in sorted(Path(package_dir).rglob("*.py")):
        try:
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return "\n".join(parts)


def mentioned_in_package(backend: Backend, word: str) -> bool:
    """Whether a name appears anywhere in the vendor package(s) of the driver and its delegate
    (then a missing literal means "set where certkit does not follow", not "never set")."""
    for cls in filter(None, (backend.driver, backend.delegate)):
        module = sys.modules.get(cls.__module__)
        path = getattr(module, "__file__", None)
        if not path:
            continue
        parts = cls.__module__.split(".")
        # manila.share.drivers.<vendor>[...]: the vendor package; else the module's own file.
        if parts[:3] == ["manila", "share", "drivers"] and len(parts) > 4:
            root = Path(path).parents[len(parts) - 5]
            if word in _package_text(str(root)):
                return True
        elif word in Path(path).read_text(encoding="utf-8", errors="replace"):
            return True
    return False
