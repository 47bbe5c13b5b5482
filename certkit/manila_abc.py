"""The installed Manila's ShareDriver ABC, read with `inspect`: which methods and parameters this
Manila has, and which of them a driver class redefines."""

from __future__ import annotations

import inspect
from functools import lru_cache
from typing import Any, Callable, Iterable

from certkit.catalogue import FEATURES_BY_ID, Feature


@lru_cache(maxsize=None)
def share_driver_abc() -> type:
    """The installed `manila.share.driver.ShareDriver` class."""
    from certkit.manila_env import prepare_manila

    prepare_manila()
    from manila.share import driver  # imported lazily: manila's import takes ~1 s

    return driver.ShareDriver


def abc_method(name: str) -> Callable[..., Any] | None:
    """The ABC's function for a method name, or None when the installed Manila lacks it."""
    return share_driver_abc().__dict__.get(name)


def abc_signature(name: str) -> inspect.Signature | None:
    """The installed ABC's signature of a method (None when this Manila has no such method)."""
    func = abc_method(name)
    return inspect.signature(func) if func is not None else None


def missing_methods(feat: Feature) -> list[str]:
    """Methods of a feature that the installed Manila's ABC does not define."""
    names = {m for group in feat.method_sets() for m in group} | set(feat.hooks)
    return sorted(m for m in names if abc_method(m) is None)


def available_in_installed_manila(feat: Feature) -> bool:
    """Whether the installed ABC defines at least one complete method set of the feature."""
    sets = feat.method_sets()
    return not sets or any(all(abc_method(m) is not None for m in group) for group in sets)


def redefined_methods(driver_cls: type, names: Iterable[str]) -> set[str]:
    """Which of `names` the class (through its MRO) redefines relative to the installed ABC.

    Same notion as `ShareDriver._has_redefined_driver_methods`, so a vendor base class counts.
    """
    abc = share_driver_abc()
    found = set()
    for name in names:
        base = abc.__dict__.get(name)
        impl = getattr(driver_cls, name, None)
        impl = getattr(impl, "__func__", impl)
        if base is not None and impl is not None and impl is not base:
            found.add(name)
    return found


def implements(driver_cls: type, feat: Feature) -> bool:
    """Whether the class's code backs the feature (one method set fully redefined)."""
    sets = feat.method_sets()
    if not sets:
        return all(implements(driver_cls, FEATURES_BY_ID[r]) for r in feat.requires)
    return any(redefined_methods(driver_cls, group) == set(group) for group in sets)


def accepts(method: str, parameter: str) -> bool:
    """Whether the installed Manila's ABC passes `parameter` to `method` (version awareness)."""
    signature = abc_signature(method)
    return signature is not None and parameter in signature.parameters
