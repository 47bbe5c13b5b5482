"""Deliberately broken drivers, one violation each, grouped by check family (one module each).

Every module defines BROKEN: {driver class: (check function, variant, expected outcome)}; the
registry below merges them for tests/test_contract_checks_catch_violations.py. A module may also
name a REFERENCE driver and EXTRA_FEATURES to claim, for features the DummyDriver lacks.
"""

from __future__ import annotations

import importlib
import pkgutil


def registry() -> dict[type, tuple[str, str, str]]:
    """Every broken driver of every module in this package."""
    merged: dict[type, tuple[str, str, str]] = {}
    for module in modules():
        merged.update(getattr(module, "BROKEN", {}))
    return merged


def modules() -> list:
    """The modules of this package."""
    return [importlib.import_module(f"{__name__}.{info.name}")
            for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)]


def setting(driver_class: type) -> tuple[type | None, tuple[str, ...]]:
    """(reference driver, extra claimed features) of the module a broken driver comes from.

    A family whose feature Manila's DummyDriver lacks (IPv6) brings its own reference driver:
    the check must pass on it and fail on the broken one."""
    module = importlib.import_module(driver_class.__module__)
    return getattr(module, "REFERENCE", None), tuple(getattr(module, "EXTRA_FEATURES", ()))
