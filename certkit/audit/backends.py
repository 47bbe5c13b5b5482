"""One row per configurable back end: drivers that delegate to a plugin, layout, connection or
library are resolved into one row per back end a manila.conf can select. Every choice comes from
the installed code (entry points, registries, class attributes), never from a hand-typed list."""

from __future__ import annotations

import ast
import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from certkit.audit.source import function_tree


@dataclass(frozen=True)
class Backend:
    """A driver class as one manila.conf configures it."""

    driver: type
    config: Mapping[str, str] = field(default_factory=dict)
    delegate: type | None = None
    attr: str | None = None
    """The driver's attribute holding the delegate (`plugin`, `layout`, `library`)."""
    choice: str = ""
    """How the delegate is chosen, e.g. `emc_share_backend = unity`."""

    @property
    def driver_path(self) -> str:
        """`module.Class` of the driver."""
        return f"{self.driver.__module__}.{self.driver.__qualname__}"

    @property
    def path(self) -> str:
        """The row's name: the driver path, plus the choice for a delegating driver."""
        return f"{self.driver_path} [{self.choice}]" if self.choice else self.driver_path

    @property
    def delegate_path(self) -> str | None:
        """`module.Class` of the delegate."""
        return f"{self.delegate.__module__}.{self.delegate.__qualname__}" if self.delegate else None


@dataclass(frozen=True)
class Unresolved:
    """A back end the code names but whose delegate does not import."""

    target: str
    error: str


def _import_class(dotted: str) -> type:
    module, _, name = dotted.replace(":", ".").rpartition(".")
    cls = getattr(importlib.import_module(module), name, None)
    if not inspect.isclass(cls):
        raise ImportError(f"{module} has no class {name}")
    return cls


def _entry_point_choices(group: str) -> dict[str, str]:
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=group)}


def _emc(cls: type) -> tuple[str, str, dict[str, str]] | None:
    """EMCShareDriver: `emc_share_backend` names a stevedore plugin (entry points)."""
    init = cls.__dict__.get("__init__")
    if init is None or "plugin_manager" not in getattr(init, "__code__", None).co_names:
        return None
    tree = function_tree(init)
    namespace = next((n.value.value for n in ast.walk(tree[0]) if isinstance(n, ast.keyword)
                      and n.arg == "namespace" and isinstance(n.value, ast.Constant)), None) if tree else None
    if not namespace:
        return None
    return "plugin", "emc_share_backend", _entry_point_choices(namespace)


def _huawei(cls: type) -> tuple[str, str, dict[str, str]] | None:
    """HuaweiNasDriver: `Storage/Product` in manila_huawei_conf_file picks a connection."""
    registry = getattr(inspect.getmodule(cls), "HUAWEI_UNIFIED_DRIVER_REGISTRY", None)
    if not isinstance(registry, dict):
        return None
    return "plugin", "Storage/Product (manila_huawei_conf_file)", dict(registry)


def _gluster(cls: type) -> tuple[str, str, dict[str, str]] | None:
    """GlusterFS drivers: `glusterfs_share_layout` picks one of the class's supported layouts."""
    layouts = cls.__dict__.get("supported_layouts") or getattr(cls, "supported_layouts", None)
    prefix = getattr(cls, "LAYOUT_PREFIX", None)
    if not layouts or not prefix:
        return None
    return "layout", "glusterfs_share_layout", {name: f"{prefix}.{name}" for name in layouts}


def _static_library(cls: type) -> tuple[str, type] | None:
    """A driver whose constructor builds one fixed library (`self.library = lib.X(...)`)."""
    init = cls.__dict__.get("__init__")
    parsed = function_tree(init) if init else None
    if parsed is None:
        return None
    module = inspect.getmodule(cls)
    for node in ast.walk(parsed[0]):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and ast.unparse(node.targets[0]) == "self.library" and isinstance(node.value, ast.Call)):
            dotted = ast.unparse(node.value.func)
            head, *rest = dotted.split(".")
            target: Any = getattr(module, head, None)
            for part in rest:
                target = getattr(target, part, None)
            if inspect.isclass(target):
                return "library", target
    return None


_PLUGGABLE: tuple[Callable[[type], tuple[str, str, dict[str, str]] | None], ...] = (_emc, _huawei, _gluster)


def is_configurable(cls: type, all_classes: list[type]) -> bool:
    """False for classes no manila.conf can select: abstract classes, GlusterFS-style bases with
    no layout, and vendor bases (subclassed in the tree, declaring no DHSS mode of their own)."""
    from certkit.audit.static_source import declared_dhss_modes

    if inspect.isabstract(cls):
        return False
    if "supported_layouts" in dir(cls) and not cls.supported_layouts:
        return False
    subclassed = any(other is not cls and issubclass(other, cls) for other in all_classes)
    return not (subclassed and declared_dhss_modes(cls) is None and not _pluggable(cls))


def _pluggable(cls: type) -> tuple[str, str, dict[str, str]] | None:
    for resolver in _PLUGGABLE:
        try:
            found = resolver(cls)
        except (OSError, TypeError, SyntaxError):
            found = None
        if found:
            return found
    return None


def backends_of(cls: type) -> list[Backend | Unresolved]:
    """The back ends a driver class serves: one per delegate, or the class itself."""
    found = _pluggable(cls)
    if found:
        attr, option, choices = found
        rows: list[Backend | Unresolved] = []
        for name, dotted in sorted(choices.items()):
            choice = f"{option} = {name.rsplit('.', 1)[-1] if option == 'glusterfs_share_layout' else name}"
            try:
                delegate = _import_class(dotted)
            except Exception as exc:  # noqa: BLE001 - a delegate that does not import is a finding
                path = f"{cls.__module__}.{cls.__qualname__} [{choice}]"
                rows.append(Unresolved(path, f"{type(exc).__name__}: {exc}"[:300]))
                continue
            rows.append(Backend(cls, {option.split(" ")[0]: name}, delegate, attr, choice))
        return rows
    library = _static_library(cls)
    if library:
        return [Backend(cls, {}, library[1], library[0])]
    return [Backend(cls)]


def backend_for_config(cls: type, config: Mapping[str, Any]) -> Backend | None:
    """The row a profile's config selects (None when its config does not pick one)."""
    rows = [b for b in backends_of(cls) if isinstance(b, Backend)]
    if len(rows) == 1:
        return rows[0]
    for row in rows:
        if all(str(config.get(k, "")).lower() == str(v).lower() for k, v in row.config.items()):
            return row
    # A GlusterFS driver without glusterfs_share_layout uses its first supported layout.
    layouts = getattr(cls, "supported_layouts", None)
    if layouts and "glusterfs_share_layout" not in config:
        return next((r for r in rows if r.config.get("glusterfs_share_layout") == layouts[0]), None)
    return None
