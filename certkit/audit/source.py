"""Source facts about one function: where it is, and whether its body is a NotImplementedError
stub. Every citation the audit makes comes from here (`path:line`, relative to site-packages)."""

from __future__ import annotations

import ast
import inspect
import linecache
import sys
import textwrap
from functools import lru_cache
from typing import Any


def unwrap(func: Any) -> Any:
    """The innermost function whose source holds the logic: `__wrapped__` followed, and a
    decorator's `(*args, **kwargs)` wrapper without functools.wraps opened to the one function it
    closes over. (Binding never uses this: Python binds a call against the wrapper.)"""
    func = getattr(func, "__func__", func)
    for _ in range(8):
        try:
            func = inspect.unwrap(func)
        except ValueError:
            return func
        code = getattr(func, "__code__", None)
        if code is None or not code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
            return func
        inner = [c.cell_contents for c in func.__closure__ or ()
                 if _cell_is_function(c)]
        if len(inner) != 1:
            return func
        func = inner[0]
    return func


def _cell_is_function(cell: Any) -> bool:
    try:
        return inspect.isfunction(cell.cell_contents)
    except ValueError:  # an empty cell
        return False


def _short_file(path: str) -> str:
    for root in sorted({p for p in sys.path if p}, key=len, reverse=True):
        if path.startswith(root.rstrip("/") + "/"):
            return path[len(root.rstrip("/")) + 1:]
    return path


def _last_line(code: Any) -> int:
    """The last source line a code object (or a nested one) covers."""
    last = code.co_firstlineno
    for _, end, _, _ in code.co_positions():
        if end is not None and end > last:
            last = end
    for const in code.co_consts:
        if hasattr(const, "co_positions"):
            last = max(last, _last_line(const))
    return last


@lru_cache(maxsize=None)
def _parse_function(code: Any) -> ast.AST | None:
    """The definition node of a code object, parsed from just its own lines (no tokenizing of
    the whole module); line numbers are the file's own."""
    lines = linecache.getlines(code.co_filename)
    if not lines:
        return None
    first, last = code.co_firstlineno, _last_line(code)
    try:
        tree = ast.parse(textwrap.dedent("".join(lines[first - 1:last])))
    except SyntaxError:
        return None
    return next((n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)), None)


def _code_of(func: Any) -> Any:
    return getattr(func, "__code__", None)


def where(func: Any) -> str:
    """`manila/share/drivers/x.py:123` for a function (its innermost definition's `def` line),
    or ''."""
    code = _code_of(unwrap(func))
    if code is not None:
        lines = linecache.getlines(code.co_filename)
        line = code.co_firstlineno
        while line <= len(lines) and lines[line - 1].lstrip().startswith("@"):
            line += 1
        return f"{_short_file(code.co_filename)}:{line}"
    if inspect.isclass(func):
        module = sys.modules.get(func.__module__)
        path = getattr(module, "__file__", None)
        return _short_file(path) if path else func.__module__
    return ""


def function_tree(func: Any) -> tuple[ast.AST, int, str] | None:
    """(the function's definition node, its first line, file): a node's line N is the file's
    line `first + N - 1`."""
    code = _code_of(unwrap(func))
    if code is None:
        return None
    node = _parse_function(code)
    if node is None:
        return None
    return node, code.co_firstlineno, _short_file(code.co_filename)


def _is_not_implemented(node: ast.AST | None) -> bool:
    if isinstance(node, ast.Call):
        node = node.func
    return isinstance(node, ast.Name | ast.Attribute) and ast.unparse(node).endswith("NotImplementedError")


def is_stub(func: Any) -> bool:
    """True when the body only raises (or returns) NotImplementedError, after any docstring or
    log calls: a placeholder, not an implementation."""
    code = _code_of(unwrap(func))
    if code is None or "NotImplementedError" not in code.co_names:
        return False  # a stub names NotImplementedError; most functions are ruled out unparsed
    parsed = function_tree(func)
    if parsed is None:
        return False
    body = getattr(parsed[0], "body", None)
    if not body:
        return False
    *head, last = body
    if not all(isinstance(n, ast.Expr) for n in head):
        return False
    return (isinstance(last, ast.Raise) and _is_not_implemented(last.exc)) or (
        isinstance(last, ast.Return) and _is_not_implemented(last.value))


def defining_class(cls: type, name: str) -> type | None:
    """The class in cls's MRO whose __dict__ holds `name`."""
    return next((k for k in cls.__mro__ if name in k.__dict__), None)
