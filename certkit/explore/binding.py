"""Binding the explorer to one certification run: the profile's claims, the protocol and access
type explored, fresh `Resources` for each example (on the run's ledger), and the observer (the
client host's `Mounter` when the profile has one that can mount the protocol)."""

from __future__ import annotations

from typing import Any, Callable

from certkit.contract.resources import Resources
from certkit.datapath import Mounter
from certkit.explore.executor import Backend, Executor
from certkit.explore.machine import Claims
from certkit.explore.observers import ClientObserver, DriverObserver
from certkit.profile import Profile

NOT_OBSERVABLE = ("the data path was not observable (no client host, or no mount helper for "
                  "the protocol): only what the driver returns was compared with the model")


def explored_access(profile: Profile) -> tuple[str, str] | None:
    """The first protocol and access type the profile claims (None: it claims none)."""
    for proto in profile.protocols:
        for kind in profile.access_types.get(proto, ()):
            return proto, kind
    return None


def can_observe_data(profile: Profile) -> bool:
    """Whether a client host can mount what is explored."""
    access = explored_access(profile)
    return bool(profile.client_hosts) and access is not None and access[0] in Mounter.SUPPORTED


def claims_of(profile: Profile, data_path: bool, max_size: int = 4, max_rules: int = 256) -> Claims:
    """The rules' gates: the features the profile claims and its access levels."""
    levels = tuple(level for level in ("rw", "ro") if level in profile.access_levels)
    return Claims(frozenset(profile.claimed), levels or ("rw",), data_path, max_size, max_rules)


def executor_factory(run: Any, dut: Any, context: Any, models: Any,
                     mounter: Mounter | None) -> Callable[[], Executor]:
    """A new executor per example: its own Resources (cleaned up after the example, and by the
    run's final clean-up if interrupted), its own observer, and a driver instance that no other
    example used (the run's for the first, then a new one over the same private storage, set up
    as the manager does): what a driver keeps in memory from an earlier example (a share it
    remembers that another instance deleted after a restart) cannot decide a later one, so a
    failing example reproduces alone, as Hypothesis' shrinker and `certkit replay` (a fresh
    instance) need."""
    profile = run.profile
    proto, kind = explored_access(profile)
    made = [0]

    def new() -> Executor:
        made[0] += 1
        driver = dut.driver if made[0] == 1 else _new_instance(run, dut, context)
        res = Resources(driver, context, models, run.ledger,
                        poll_timeout=profile.timeouts["status_poll"],
                        default_size=profile.share_size_gb)
        if mounter is not None:
            mounter.tracker = res
            observer: DriverObserver = ClientObserver(mounter)
        else:
            observer = DriverObserver()
        return Executor(Backend(res, run.new_driver, dut, proto, kind), observer, made[0])

    return new


def _new_instance(run: Any, dut: Any, context: Any) -> Any:
    """Another instance of the driver under test over its private storage, set up."""
    instance = run.new_driver(dut.dhss, private_storage=dut.private_storage)
    instance.driver.do_setup(context)
    return instance.driver


def pool_of(profile: Profile, driver: Any) -> str | None:
    """The pool shares go to: the profile's `pool`, else the first pool the driver reports."""
    if profile.raw.get("pool"):
        return str(profile.raw["pool"])
    stats = driver.get_share_stats(refresh=True)
    pools = (stats or {}).get("pools") or [] if isinstance(stats, dict) else []
    return pools[0].get("pool_name") if pools and isinstance(pools[0], dict) else None
