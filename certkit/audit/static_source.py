"""What a driver's source says without running it: declared DHSS modes, the stats keys whose
literal values are claims, and the oslo.config options its modules register."""

from __future__ import annotations

import ast
import inspect
import sys
from typing import Any

from certkit.audit.source import function_tree
from certkit.manila_abc import share_driver_abc

# Stats keys whose literal value is a claim (capabilities-notes.md).
CLAIM_KEYS = frozenset({
    "snapshot_support", "create_share_from_snapshot_support", "revert_to_snapshot_support",
    "mount_snapshot_support", "snapshot_inherit_share_access_support", "replication_type",
    "ipv4_support", "ipv6_support", "qos", "security_service_update_support",
    "network_allocation_update_support", "share_server_multiple_subnet_support",
    "storage_protocol", "thin_provisioning", "mount_point_name_support",
    "consistent_snapshot_support", "dedupe", "compression",
})


def _is_super_init(call: ast.Call) -> bool:
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr == "__init__" and (
        (isinstance(func.value, ast.Call) and getattr(func.value.func, "id", "") == "super")
        or isinstance(func.value, ast.Name | ast.Attribute))


def declared_dhss_modes(cls: type) -> tuple[bool, ...] | None:
    """The DHSS modes a class passes to ShareDriver.__init__, read from its (or a base's)
    constructor source; None when not a literal."""
    abc = share_driver_abc()
    for klass in cls.__mro__:
        if klass is abc or klass is object:
            break
        init = klass.__dict__.get("__init__")
        parsed = function_tree(init) if init else None
        if parsed is None:
            continue
        tree = parsed[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_super_init(node):
                args = list(node.args)
                if args and isinstance(args[0], ast.Name) and args[0].id == "self":
                    args = args[1:]
                candidates = args[:1] + [k.value for k in node.keywords
                                         if k.arg == "driver_handles_share_servers"]
                for arg in candidates:
                    try:
                        value = ast.literal_eval(arg)
                    except (ValueError, SyntaxError):
                        continue
                    if isinstance(value, bool):
                        return (value,)
                    if isinstance(value, (list, tuple)) and all(isinstance(v, bool) for v in value):
                        return tuple(value)
    return None


def registered_options(cls: type) -> list[Any]:
    """oslo.config options defined at module level in the modules of the class and its vendor
    bases (lists of cfg.Opt, as drivers pass to `config_opts` / append_config_values)."""
    from oslo_config import cfg

    abc = share_driver_abc()
    options: dict[str, Any] = {}
    modules = []
    for klass in cls.__mro__:
        if klass is abc or klass is object:
            break
        module = sys.modules.get(klass.__module__)
        if module is not None and module not in modules:
            modules.append(module)
            # Vendors often keep their options in a sibling `options`/`opts` module.
            modules.extend(v for k, v in vars(module).items()
                           if inspect.ismodule(v) and k.endswith(("options", "opts")) and v not in modules)
    core = {id(o) for o in _core_options()}
    for module in modules:
        for value in vars(module).values():
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if isinstance(item, cfg.Opt) and item.dest not in options and id(item) not in core:
                    options[item.dest] = item
    return list(options.values())


def _core_options() -> list[Any]:
    """Options of Manila's share service itself (not the driver's own)."""
    from oslo_config import cfg

    found = []
    for name in ("manila.share.driver", "manila.share.manager", "manila.common.config",
                 "manila.share.drivers_private_data", "manila.network"):
        module = sys.modules.get(name)
        for value in vars(module).values() if module else ():
            items = value if isinstance(value, (list, tuple)) else [value]
            found.extend(i for i in items if isinstance(i, cfg.Opt))
    return found
