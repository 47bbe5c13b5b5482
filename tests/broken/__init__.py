"""Deliberately broken drivers, one violation each, grouped by check family (one module each).

Every module defines BROKEN: {driver class: (check function, variant, expected outcome)}; the
registry below merges them for tests/test_contract_checks_catch_violations.py.
"""

from __future__ import annotations

import importlib
import pkgutil


def registry() -> dict[type, tuple[str, str, str]]:
    """Every broken driver of every module in this package."""
    merged: dict[type, tuple[str, str, str]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        merged.update(getattr(module, "BROKEN", {}))
    return merged
