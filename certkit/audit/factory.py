"""Driver factories: a class manila.conf names that is not itself a ShareDriver but builds one.

NetApp's `manila.share.drivers.netapp.common.NetAppDriver` is the in-tree case: its `__new__`
reads `netapp_storage_family` and `driver_handles_share_servers` from the configuration and
returns an instance of a mode-specific class via `importutils.import_object`. Manila's share
manager builds a driver with `importutils.import_object(share_driver, private_storage=...,
configuration=...)`; certkit does the same, with `import_object` intercepted, so the class the
factory picks is recorded and never instantiated (no back end is contacted).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Mapping
from unittest import mock

from certkit.deadlines import CallTimeout, call_with_alarm
from certkit.manila_abc import share_driver_abc


class FactoryError(Exception):
    """The factory picked no driver class (a missing or unsupported option, an error)."""


@dataclass(frozen=True)
class FactoryChoice:
    """What a factory picked, and from which options."""

    factory: str
    """The dotted path manila.conf names (`share_driver = ...`)."""
    resolved: type
    options: Mapping[str, Any] = field(default_factory=dict)
    """The options the factory read, with the values it saw."""

    @property
    def resolved_path(self) -> str:
        return f"{self.resolved.__module__}.{self.resolved.__qualname__}"

    def describe(self) -> str:
        """One line: `X is a factory: with a=1, b=2 it builds Y`."""
        seen = ", ".join(f"{k}={v}" for k, v in self.options.items()) or "no options"
        return f"{self.factory} is a driver factory: with {seen} it builds {self.resolved_path}"


def is_factory(obj: object) -> bool:
    """A class that is not a ShareDriver but constructs objects itself (defines `__new__`)."""
    return (inspect.isclass(obj) and not issubclass(obj, share_driver_abc())
            and "__new__" in vars(obj))


class FactoryConfiguration:
    """What a driver reads of Manila's `share.configuration.Configuration`: options it registers
    with append_config_values, values from the profile's config (coerced by the option's own
    type, as oslo.config would), defaults otherwise. Records every option read."""

    def __init__(self, values: Mapping[str, Any], group: str = "certkit") -> None:
        self._values = dict(values)
        self._opts: dict[str, Any] = {}
        self._read: dict[str, Any] = {}
        self.config_group = group

    def append_config_values(self, opts: list[Any]) -> None:
        for opt in opts:
            self._opts[opt.dest] = opt

    def safe_get(self, name: str) -> Any:
        try:
            return getattr(self, name)
        except AttributeError:
            return None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        opt = self._opts.get(name)
        if name in self._values:
            value = self._values[name]
            if isinstance(value, str) and opt is not None and getattr(opt, "type", None):
                value = opt.type(value)
        elif opt is not None:
            value = opt.default
        else:
            raise AttributeError(f"no option {name!r} registered or configured")
        self._read[name] = value
        return value


class _Picked(Exception):
    def __init__(self, dotted: str) -> None:
        super().__init__(dotted)
        self.dotted = dotted


def resolve_factory(factory: type, config: Mapping[str, Any], timeout: float = 30.0
                    ) -> FactoryChoice:
    """The ShareDriver class `factory` builds for `config`, as Manila's share manager would get
    it (import_object(share_driver, private_storage=..., configuration=...))."""
    from oslo_utils import importutils

    path = f"{factory.__module__}.{factory.__qualname__}"
    configuration = FactoryConfiguration(config)

    def pick(dotted: str, *_args: Any, **_kwargs: Any) -> Any:
        raise _Picked(dotted)

    def build() -> None:
        with mock.patch.object(importutils, "import_object", pick), \
                mock.patch.object(importutils, "import_class", pick):
            factory(private_storage=None, configuration=configuration)

    try:
        call_with_alarm(build, timeout, f"construct {path}")
    except _Picked as picked:
        chosen = picked.dotted
    except CallTimeout:
        raise FactoryError(f"{path}: the factory did not pick a class within {timeout:g} s") \
            from None
    except Exception as exc:  # noqa: BLE001 - the factory's own refusal, as Manila would log it
        reason = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
        raise FactoryError(f"{path}: the factory refused the configuration: "
                           f"{' '.join(str(reason).split())} (give the manila.conf options it "
                           "reads with --config KEY=VALUE)") from None
    else:
        raise FactoryError(f"{path}: constructing it imported no driver class")
    from certkit.dotted import DottedImportError, import_dotted

    try:
        resolved = import_dotted(chosen)
    except DottedImportError as exc:
        raise FactoryError(f"{path}: picked {chosen}, which does not import: {exc}") from None
    if not (inspect.isclass(resolved) and issubclass(resolved, share_driver_abc())):
        raise FactoryError(f"{path}: picked {chosen}, which is not a ShareDriver subclass")
    options = {k: v for k, v in configuration._read.items()
               if k in configuration._values or k in configuration._opts}
    return FactoryChoice(path, resolved, options)
