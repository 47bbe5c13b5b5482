"""Signature conformance of a driver's methods against the installed ShareDriver ABC."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from certkit.contract.catalogue import share_driver_abc

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
# The base class calls these itself with fewer arguments than its own signature allows.
_CALLED_BY_BASE_ONLY = frozenset({"_update_share_stats"})


@dataclass(frozen=True)
class SignatureFinding:
    """One way a method's signature drifts from the ABC."""

    method: str
    kind: str
    """missing-parameter, renamed-parameter, extra-required-parameter, dropped-share-server."""
    detail: str

    @property
    def severity(self) -> str:
        """`error` breaks a call the share manager makes; `warning` breaks keyword calls only."""
        return "warning" if self.kind == "renamed-parameter" else "error"

    def __str__(self) -> str:
        return f"{self.method}: {self.detail}"


def _params(func: object) -> list[inspect.Parameter]:
    try:
        return list(inspect.signature(func).parameters.values())[1:]  # drop self
    except (TypeError, ValueError):
        return []


def method_findings(name: str, impl: object, base: object) -> list[SignatureFinding]:
    """Compare one redefined method with the ABC's."""
    found: list[SignatureFinding] = []
    mine, theirs = _params(impl), _params(base)
    has_var_pos = any(p.kind is p.VAR_POSITIONAL for p in mine)
    has_var_kw = any(p.kind is p.VAR_KEYWORD for p in mine)
    mine_by_name = {p.name: p for p in mine}
    mine_positional = [p for p in mine if p.kind in _POSITIONAL]
    renamed: set[str] = set()
    for index, param in enumerate(p for p in theirs if p.kind in _POSITIONAL + (inspect.Parameter.KEYWORD_ONLY,)):
        if param.name in mine_by_name or has_var_kw:
            continue
        positional_ok = param.kind in _POSITIONAL and (index < len(mine_positional) or has_var_pos)
        if param.name == "share_server":
            found.append(SignatureFinding(name, "dropped-share-server",
                                          "drops the share_server keyword the share manager passes"))
        elif positional_ok and param.default is inspect.Parameter.empty and index < len(mine_positional):
            renamed.add(mine_positional[index].name)
            found.append(SignatureFinding(name, "renamed-parameter",
                                          f"parameter {param.name!r} is named "
                                          f"{mine_positional[index].name!r}"))
        else:
            found.append(SignatureFinding(name, "missing-parameter",
                                          f"does not accept {param.name!r}"))
    base_names = {p.name for p in theirs}
    for param in mine:
        if (param.name not in base_names and param.name not in renamed
                and param.default is inspect.Parameter.empty
                and param.kind in _POSITIONAL + (inspect.Parameter.KEYWORD_ONLY,)):
            found.append(SignatureFinding(name, "extra-required-parameter",
                                          f"requires extra parameter {param.name!r}"))
    return found


def class_findings(cls: type, methods: set[str]) -> list[SignatureFinding]:
    """Findings for every ABC method the class redefines."""
    abc = share_driver_abc()
    found: list[SignatureFinding] = []
    for name in sorted(methods - _CALLED_BY_BASE_ONLY):
        impl = getattr(cls, name, None)
        base = abc.__dict__.get(name)
        if impl is not None and base is not None and callable(base):
            found.extend(method_findings(name, impl, base))
    return found
