"""The one place that imports a dotted path (`package.module` or `package.module.Name`)."""

from __future__ import annotations

import importlib
from typing import Any

from certkit.deadlines import CallTimeout
from certkit.text import error_text


class DottedImportError(ImportError):
    """A dotted path that does not import; the message says which part failed and why."""


def import_dotted(path: str) -> Any:
    """The module `path` names or, failing that, the attribute `Name` of module `path`'s parent.

    Any exception raised while importing (a missing vendor SDK, a syntax error, a driver module
    that raises) becomes a DottedImportError with a one-line reason.
    """
    try:
        return importlib.import_module(path)
    except CallTimeout:  # the caller's time limit (call_with_alarm) ran out: not an import error
        raise
    except ModuleNotFoundError as exc:
        if exc.name is None or not path.startswith(exc.name) or "." not in path:
            raise DottedImportError(f"cannot import module {path}: {error_text(exc, 300)}") from None
    except Exception as exc:  # noqa: BLE001 - whatever the module raises is reported in one line
        raise DottedImportError(f"cannot import module {path}: {error_text(exc, 300)}") from None
    module_name, _, name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except CallTimeout:
        raise
    except Exception as exc:  # noqa: BLE001 - same as above, for the parent module
        raise DottedImportError(f"cannot import module {module_name}: {error_text(exc, 300)}") from None
    try:
        return getattr(module, name)
    except AttributeError:
        raise DottedImportError(f"module {module_name} has no class {name}") from None
