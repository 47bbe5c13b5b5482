"""Find driver classes: by dotted class path, by module, or every ShareDriver subclass shipped in
the installed `manila.share.drivers` package. A module that does not import is a finding."""

from __future__ import annotations

import inspect
import pkgutil
from dataclasses import dataclass
from typing import Any, Mapping

from certkit.audit.factory import FactoryChoice, FactoryError, is_factory, resolve_factory
from certkit.dotted import DottedImportError, import_dotted
from certkit.deadlines import CallTimeout, call_with_alarm
from certkit.manila_abc import share_driver_abc


@dataclass(frozen=True)
class ImportFailure:
    """A target that could not be imported (a missing vendor SDK, a syntax error...)."""

    target: str
    error: str


DEFAULT_IMPORT_TIMEOUT = 10.0


def import_with_limit(target: str, timeout: float = DEFAULT_IMPORT_TIMEOUT) -> object:
    """The module or class a dotted path names, imported within `timeout` seconds; a hung or
    failing import raises DottedImportError with a one-line reason (the audit goes on)."""
    try:
        return call_with_alarm(import_dotted, timeout, f"import {target}", target)
    except CallTimeout:
        raise DottedImportError(f"import did not finish within {timeout:g} s") from None


def driver_classes_in(module: object) -> list[type]:
    """ShareDriver subclasses defined (not merely imported) in a module."""
    abc = share_driver_abc()
    name = getattr(module, "__name__", "")
    return [obj for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, abc) and obj is not abc
            and obj.__module__ == name]


def resolve_target(target: str, timeout: float = DEFAULT_IMPORT_TIMEOUT,
                   config: Mapping[str, Any] | None = None) -> list[type | ImportFailure]:
    """A class path gives that class; a module path gives its driver classes; a driver factory
    (NetApp's NetAppDriver) gives the class it builds for `config`."""
    return resolve_named(target, timeout, config)[0]


def resolve_named(target: str, timeout: float = DEFAULT_IMPORT_TIMEOUT,
                  config: Mapping[str, Any] | None = None
                  ) -> tuple[list[type | ImportFailure], FactoryChoice | None]:
    """resolve_target, and what a factory picked (None when the target is no factory)."""
    abc = share_driver_abc()
    try:
        found = import_with_limit(target, timeout)
    except DottedImportError as exc:
        return [ImportFailure(target, str(exc))], None
    if inspect.ismodule(found):
        classes = driver_classes_in(found)
        return classes or [ImportFailure(target, "module defines no ShareDriver subclass")], None
    module_name, _, class_name = target.rpartition(".")
    if not inspect.isclass(found):
        return [ImportFailure(target, f"module {module_name} has no class {class_name}")], None
    if is_factory(found):
        try:
            choice = resolve_factory(found, config or {}, timeout)
        except FactoryError as exc:
            return [ImportFailure(target, str(exc).removeprefix(f"{target}: "))], None
        return [choice.resolved], choice
    if not issubclass(found, abc):
        return [ImportFailure(target, f"{class_name} is not a manila ShareDriver subclass "
                                      "(nor a factory that builds one)")], None
    return [found], None


def in_tree(timeout: float = DEFAULT_IMPORT_TIMEOUT) -> list[type | ImportFailure]:
    """Every ShareDriver subclass in the installed manila.share.drivers, and every module there
    that fails to import."""
    share_driver_abc()
    import manila.share.drivers as drivers_pkg

    found: list[type | ImportFailure] = []
    failed: list[str] = []
    for info in pkgutil.walk_packages(drivers_pkg.__path__, drivers_pkg.__name__ + ".",
                                      onerror=failed.append):
        try:
            module = import_with_limit(info.name, timeout)
        except DottedImportError as exc:  # recorded, the audit goes on
            found.append(ImportFailure(info.name, str(exc)))
            continue
        found.extend(driver_classes_in(module))
    found.extend(ImportFailure(name, "package failed to import") for name in failed)
    return found


def class_path(cls: type) -> str:
    """`module.Class`."""
    return f"{cls.__module__}.{cls.__qualname__}"
