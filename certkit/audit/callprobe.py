"""Measure, rather than predict, whether a call shape binds: call the method for real with
placeholder arguments and stop the moment its body would start (a trace hook on the innermost
function's code). A TypeError before that moment is a real binding failure. Used by the audit's
precision benchmark and tests; the audit itself only binds signatures."""

from __future__ import annotations

import sys
from typing import Any, Callable
from unittest import mock

from certkit.audit.source import unwrap

BINDS, RAISES_TYPEERROR, INCONCLUSIVE = "binds", "raises-TypeError", "inconclusive"


class _Reached(BaseException):
    """Raised by the trace hook when the body of the target starts: the call bound."""


def probe_call(method: Callable[..., Any], positional: int, keywords: tuple[str, ...]) -> tuple[str, str]:
    """(outcome, detail): call `method(mock_self, *placeholders, **{k: placeholder})`."""
    target = getattr(unwrap(method), "__code__", None)
    if target is None:
        return INCONCLUSIVE, "no Python code to trace"

    def hook(frame: Any, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code is target:
            raise _Reached()
        return None

    fake_self = mock.MagicMock(name="driver")
    args = [mock.MagicMock(name=f"arg{i}") for i in range(positional)]
    kwargs = {k: mock.MagicMock(name=k) for k in keywords}
    previous = sys.gettrace()
    sys.settrace(hook)
    try:
        method(fake_self, *args, **kwargs)
    except _Reached:
        return BINDS, ""
    except TypeError as exc:
        return RAISES_TYPEERROR, str(exc)
    except Exception as exc:  # noqa: BLE001 - the wrapper's own logic failed on placeholders
        return INCONCLUSIVE, f"{type(exc).__name__}: {exc}"[:200]
    finally:
        sys.settrace(previous)
    return INCONCLUSIVE, "returned without entering the method's body"
