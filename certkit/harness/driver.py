"""The driver under test: the profile's real class, configured like the share manager does it."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

from certkit.errors import DriverLoadError
from certkit.harness.config import driver_configuration, load_conf
from certkit.harness.private_storage import make_private_storage
from certkit.deadlines import CallTimeout, call_with_timeout
from certkit.profile import Profile, import_driver_class
from certkit.text import error_text


@dataclass
class CallTimes:
    """Seconds spent inside driver methods, per method (thread-safe)."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, method: str, seconds: float) -> None:
        """Account one call."""
        with self._lock:
            self.seconds[method] += seconds
            self.calls[method] += 1

    @property
    def total(self) -> float:
        """All seconds spent in the driver."""
        with self._lock:
            return sum(self.seconds.values())


def raised_by(exc: BaseException) -> str | None:
    """The driver method an exception came out of, if it came out of the driver."""
    return getattr(exc, "_certkit_driver_method", None)


class DriverProxy:
    """Wraps a driver: times every method call and tags exceptions with the method name."""

    def __init__(self, driver: Any, times: CallTimes) -> None:
        object.__setattr__(self, "_driver", driver)
        object.__setattr__(self, "_times", times)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._driver, name)
        if name.startswith("__") or not callable(attr) or isinstance(attr, type):
            return attr
        return _timed(attr, name, self._times)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._driver, name, value)

    @property
    def unwrapped(self) -> Any:
        """The driver object itself."""
        return self._driver


def _timed(method: Callable[..., Any], name: str, times: CallTimes) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        except Exception as exc:
            try:
                if raised_by(exc) is None:
                    exc._certkit_driver_method = name  # type: ignore[attr-defined]
            except AttributeError:  # exceptions with __slots__
                pass
            raise
        finally:
            times.add(name, time.perf_counter() - start)

    call.__name__ = name
    return call


def config_group(profile: Profile, dhss: bool) -> str:
    """The manila.conf group of the back end in a DHSS mode (the profile name for the first)."""
    return profile.name if dhss == profile.dhss else f"{profile.name}-dhss-{str(dhss).lower()}"


def config_sections(profile: Profile, extra: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """One manila.conf group per DHSS mode the profile certifies."""
    sections = {}
    for mode in profile.dhss_modes:
        options = {"share_backend_name": profile.name, "share_driver": profile.driver,
                   **profile.config, "driver_handles_share_servers": mode, **(extra or {})}
        if mode:
            from certkit.harness.network import PLUGIN_PATH

            options.setdefault("network_api_class", PLUGIN_PATH)
        sections[config_group(profile, mode)] = options
        # The destination back end of migration checks: the same driver under another name.
        sections[migration_target(profile, mode)] = {**options, "share_backend_name":
                                                     migration_target(profile, mode)}
    return sections


def migration_target(profile: Profile, dhss: bool) -> str:
    """The manila.conf group (and backend name) of the migration destination."""
    return f"{config_group(profile, dhss)}-target"


@dataclass
class DriverUnderTest:
    """One instance of the profile's driver, wrapped, with what it was built from."""

    profile: Profile
    dhss: bool
    driver: DriverProxy
    private_storage: Any
    times: CallTimes

    @property
    def raw(self) -> Any:
        """The unwrapped driver object."""
        return self.driver.unwrapped


def build_driver(profile: Profile, dhss: bool | None = None, *, private_storage: Any = None,
                 times: CallTimes | None = None, driver_class: type | None = None,
                 extra_config: dict[str, Any] | None = None) -> DriverUnderTest:
    """Instantiate the driver as `ShareManager.__init__` does (configuration + private storage).

    do_setup is not called here: the setup checks and the session fixture call it.
    """
    mode = profile.dhss if dhss is None else dhss
    cls = driver_class or import_driver_class(profile.driver, profile.path,
                                              timeout=profile.timeouts["import"])
    load_conf(config_sections(profile, extra_config), profile.path)
    storage = private_storage if private_storage is not None else make_private_storage()
    times = times or CallTimes()
    start = time.perf_counter()
    try:
        driver = call_with_timeout(cls, profile.timeouts["check"], f"{profile.driver}(...)",
                                   configuration=driver_configuration(config_group(profile, mode)),
                                   private_storage=storage)
    except CallTimeout:
        raise
    except Exception as exc:  # noqa: BLE001 - any constructor failure is reported in one line
        raise DriverLoadError(f"{profile.path}: driver: {profile.driver}(...) raised "
                              f"{error_text(exc)}") from None
    finally:
        times.add("__init__", time.perf_counter() - start)
    return DriverUnderTest(profile, mode, DriverProxy(driver, times), storage, times)
