"""Signature drift judged by binding: every call shape the share manager really uses is bound
against the driver's override (following `__wrapped__`; a wrapper without functools.wraps is
bound as it is, because that is what Python calls).

Severities:
- error: a real, unconditional call cannot bind (the finding cites the manager's file:line);
- latent: the only calls that cannot bind sit on a conditional path (an except handler, a
  branch on the driver's mode), or no manager call exists and the ABC's own shape cannot bind;
- info: a parameter renamed, which the manager only ever passes by position.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from certkit.audit.callshapes import CallShape, shapes_by_method
from certkit.manila_abc import share_driver_abc

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
# The base class calls these itself with fewer arguments than its own signature allows.
_CALLED_BY_BASE_ONLY = frozenset({"_update_share_stats"})
SEVERITIES = ("error", "latent", "info")


@dataclass(frozen=True)
class SignatureFinding:
    """One call shape (or ABC shape) the override does not accept, or a renamed parameter."""

    method: str
    kind: str
    """cannot-bind, abc-shape-cannot-bind, renamed-parameter, delegate-cannot-bind."""
    severity: str
    detail: str
    sites: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        where = f" (at {', '.join(self.sites[:3])}{' ...' if len(self.sites) > 3 else ''})" if self.sites else ""
        return f"{self.method}: {self.detail}{where}"

    def to_json(self) -> dict[str, Any]:
        """JSON form (audit.schema.json)."""
        return {"method": self.method, "kind": self.kind, "severity": self.severity,
                "detail": self.detail, "sites": list(self.sites)}


def signature_of(func: Callable[..., Any]) -> inspect.Signature | None:
    """The signature Python binds a call against (`__wrapped__` followed), or None."""
    try:
        return inspect.signature(func)
    except (TypeError, ValueError):
        return None


def bind_error(sig: inspect.Signature, positional: int, keywords: Iterable[str],
               with_self: bool = True) -> str | None:
    """Why a call with this shape cannot bind, or None when it binds."""
    args = [object()] * (positional + (1 if with_self else 0))
    try:
        sig.bind(*args, **{k: None for k in keywords})
    except TypeError as exc:
        return str(exc)
    return None


def _abc_shape(name: str) -> tuple[int, tuple[str, ...]] | None:
    """The ABC's own call shape: required parameters by position, optional ones by keyword."""
    base = share_driver_abc().__dict__.get(name)
    sig = signature_of(base) if callable(base) else None
    if sig is None:
        return None
    params = list(sig.parameters.values())[1:]
    required = [p for p in params if p.kind in _POSITIONAL and p.default is p.empty]
    optional = tuple(p.name for p in params if p.default is not p.empty
                     and p.kind in _POSITIONAL + (p.KEYWORD_ONLY,))
    return len(required), optional


def _renamed(name: str, sig: inspect.Signature, shapes: Sequence[CallShape]) -> list[SignatureFinding]:
    base = share_driver_abc().__dict__.get(name)
    base_sig = signature_of(base) if callable(base) else None
    if base_sig is None:
        return []
    mine = [p for p in list(sig.parameters.values())[1:] if p.kind in _POSITIONAL]
    theirs = [p for p in list(base_sig.parameters.values())[1:] if p.kind in _POSITIONAL]
    used_by_keyword = {k for s in shapes for k in s.keywords}
    found = []
    for index, (a, b) in enumerate(zip(mine, theirs)):
        if a.name != b.name and b.name not in used_by_keyword and not any(
                p.name == b.name for p in mine):
            found.append(SignatureFinding(name, "renamed-parameter", "info",
                                          f"parameter {index + 1} {b.name!r} is named {a.name!r} "
                                          "(the manager passes it by position)"))
    return found


def method_findings(name: str, impl: Callable[..., Any],
                    shapes: Sequence[CallShape] | None = None) -> list[SignatureFinding]:
    """Bind every manager call shape of `name` against one override."""
    sig = signature_of(impl)
    if sig is None:
        return []
    shapes = [s for s in (shapes_by_method().get(name, []) if shapes is None else shapes) if not s.star]
    failing: dict[str, list[CallShape]] = {}
    for shape in shapes:
        error = bind_error(sig, shape.positional, shape.keywords)
        if error:
            failing.setdefault(f"{shape.describe()} cannot bind: {error}", []).append(shape)
    found = []
    for detail, where in failing.items():
        hard = [s for s in where if not s.conditional]
        severity = "error" if hard else "latent"
        sites = tuple(s.site for s in (hard or where))
        if not hard:
            detail += f" (only when {where[0].guard})"
        found.append(SignatureFinding(name, "cannot-bind", severity, detail, sites))
    if not shapes:
        shape = _abc_shape(name)
        error = bind_error(sig, *shape) if shape else None
        if error:
            found.append(SignatureFinding(name, "abc-shape-cannot-bind", "latent",
                                          f"no manager call; the ABC's shape cannot bind: {error}"))
    if not failing:
        found.extend(_renamed(name, sig, shapes))
    return found


def class_findings(cls: type, methods: set[str]) -> list[SignatureFinding]:
    """Findings for every ABC method the class redefines."""
    found: list[SignatureFinding] = []
    for name in sorted(methods - _CALLED_BY_BASE_ONLY):
        impl = getattr(cls, name, None)
        if callable(impl):
            found.extend(method_findings(name, impl))
    return found


def delegate_findings(method: str, shapes: Sequence[CallShape], target: Callable[..., Any],
                      target_name: str) -> list[SignatureFinding]:
    """A wrapper's forwarding calls (`self.plugin.x(...)`) bound against the delegate's method."""
    sig = signature_of(target)
    found = []
    for shape in shapes:
        error = None if sig is None or shape.star else bind_error(sig, shape.positional, shape.keywords)
        if error:
            found.append(SignatureFinding(
                method, "delegate-cannot-bind", "latent" if shape.conditional else "error",
                f"forwards {shape.describe()} to {target_name}, which cannot bind: {error}",
                (shape.site,)))
    return found
