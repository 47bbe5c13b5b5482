"""Find driver classes: by dotted class path, by module, or every ShareDriver subclass shipped in
the installed `manila.share.drivers` package. A module that does not import is a finding."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import threading
from dataclasses import dataclass
from types import ModuleType

from certkit.contract.catalogue import share_driver_abc


@dataclass(frozen=True)
class ImportFailure:
    """A target that could not be imported (a missing vendor SDK, a syntax error...)."""

    target: str
    error: str


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]


DEFAULT_IMPORT_TIMEOUT = 10.0


class ImportTimeout(Exception):
    """A module's import did not finish within the time limit."""


def import_with_limit(name: str, timeout: float = DEFAULT_IMPORT_TIMEOUT) -> ModuleType:
    """Import a module in a watchdog thread; ImportTimeout when it takes longer than `timeout`
    seconds (the hung import is abandoned in its daemon thread and the audit goes on)."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["module"] = importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            outcome["error"] = exc if isinstance(exc, Exception) else ImportError(
                f"{type(exc).__name__} raised during import: {exc}")

    worker = threading.Thread(target=run, name=f"certkit-import-{name}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise ImportTimeout(f"import did not finish within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["module"]  # type: ignore[return-value]


def driver_classes_in(module: object) -> list[type]:
    """ShareDriver subclasses defined (not merely imported) in a module."""
    abc = share_driver_abc()
    name = getattr(module, "__name__", "")
    return [obj for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, abc) and obj is not abc
            and obj.__module__ == name]


def resolve_target(target: str, timeout: float = DEFAULT_IMPORT_TIMEOUT) -> list[type | ImportFailure]:
    """A class path gives that class; a module path gives its driver classes."""
    share_driver_abc()
    try:
        module = import_with_limit(target, timeout)
    except ModuleNotFoundError as exc:
        if exc.name is None or not target.startswith(exc.name):
            return [ImportFailure(target, _error_text(exc))]
        module = None
    except Exception as exc:  # noqa: BLE001 - any import failure is a finding
        return [ImportFailure(target, _error_text(exc))]
    if module is not None:
        classes = driver_classes_in(module)
        return classes or [ImportFailure(target, "module defines no ShareDriver subclass")]
    module_name, _, class_name = target.rpartition(".")
    if not module_name:
        return [ImportFailure(target, "not a module or a dotted class path")]
    try:
        module = import_with_limit(module_name, timeout)
    except Exception as exc:  # noqa: BLE001
        return [ImportFailure(target, _error_text(exc))]
    cls = getattr(module, class_name, None)
    if not inspect.isclass(cls):
        return [ImportFailure(target, f"module {module_name} has no class {class_name}")]
    if not issubclass(cls, share_driver_abc()):
        return [ImportFailure(target, f"{class_name} is not a manila ShareDriver subclass")]
    return [cls]


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
        except Exception as exc:  # noqa: BLE001 - recorded, the audit goes on
            found.append(ImportFailure(info.name, _error_text(exc)))
            continue
        found.extend(driver_classes_in(module))
    found.extend(ImportFailure(name, "package failed to import") for name in failed)
    return found


def class_path(cls: type) -> str:
    """`module.Class`."""
    return f"{cls.__module__}.{cls.__qualname__}"
