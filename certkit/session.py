"""One certification run: the profile, its run id, the driver instances, the ledger and results.

"Run" has one meaning in certkit: one certification of one profile (a CertificationRun). The
runner performs it (run_certification), `certkit run` is its command line.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from certkit.harness.driver import CallTimes, DriverUnderTest, build_driver
from certkit.harness.ledger import ResourceLedger
from certkit.harness.models import ModelFactory, new_run_id
from certkit.deadlines import CallTimeout, call_with_timeout
from certkit.apitier.target import ApiTarget
from certkit.profile import Profile
from certkit.text import error_text


@dataclass
class CheckResult:
    """The outcome of one check (one parametrised variant of a test)."""

    id: str
    name: str
    feature: str
    level: str
    outcome: str
    """passed, failed, skipped or error."""
    duration: float
    message: str = ""
    variant: str = ""
    suite: str = ""
    """The suite (sub-package of `suites`) the check belongs to: contract, datapath, api, scale."""


@dataclass
class CertificationRun:
    """State shared by the runner, the pytest plugin and the checks of one run."""

    profile: Profile
    run_id: str = field(default_factory=new_run_id)
    check_timeout: float | None = None
    driver_class: type | None = None
    """Overrides profile.driver (the broken-driver tests use it)."""
    results: list[CheckResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    collection_errors: list[str] = field(default_factory=list)
    """Suite files that did not import and tests that are not checks (the run is partial)."""
    internal_errors: list[str] = field(default_factory=list)
    """pytest internal errors (the run is partial)."""
    keyword: str | None = None
    """The -k filter (a filtered run is partial)."""
    deselected: int = 0
    """Checks the keyword filter left out."""
    not_run: int = 0
    """Selected checks that never ran (stop, interrupt, crash)."""
    pytest_exit: int | None = None
    stop_reason: str | None = None
    """Why the run stopped early: a driver call still running after its timeout."""
    interrupted: bool = False
    """Ctrl-C or SIGTERM."""
    signal: str | None = None
    """The signal that interrupted the run (SIGINT, SIGTERM)."""
    cleanup_interrupted: bool = False
    """A second signal stopped the clean-up: what was left is listed as leaked."""
    times: CallTimes = field(default_factory=CallTimes)
    progress: Callable[[str], None] | None = None
    scale: dict[str, Any] | None = None
    api_target: ApiTarget | None = None
    explore_options: Any = None
    """The exploration's budget, steps, seed and directory (certkit.explore.ExploreOptions)."""
    explore: dict[str, Any] | None = None
    """The explore suite's results (the report's `explore` section), once explored."""
    api_check_timeout: float | None = field(default=None, init=False)
    """The deadline of an API-suite check (`timeouts.api_check`, or --check-timeout)."""
    """The Manila the API suite talks to (`certkit lab up manila` or an OS_* cloud)."""
    """The scale suite's results (the report's `scale` section), once measured."""
    ledger: ResourceLedger = field(init=False)
    _drivers: dict[bool, DriverUnderTest | BaseException] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.ledger = ResourceLedger(timeout=self.profile.timeouts["cleanup"],
                                     workers=self.profile.concurrency)
        if self.check_timeout is None:
            self.check_timeout = self.profile.timeouts["check"]
            self.api_check_timeout = self.profile.timeouts["api_check"]
        else:  # --check-timeout: the user's limit for every check
            self.api_check_timeout = self.check_timeout

    def warn(self, message: str) -> None:
        """Record a warning for the report (once; secrets redacted)."""
        message = self.profile.redact(message)
        with self._lock:
            if message not in self.warnings:
                self.warnings.append(message)

    def new_driver(self, dhss: bool | None = None, private_storage: Any = None) -> DriverUnderTest:
        """A fresh, un-setup instance of the driver (setup checks, restart checks)."""
        return build_driver(self.profile, dhss, private_storage=private_storage, times=self.times,
                            driver_class=self.driver_class)

    def driver(self, dhss: bool | None = None) -> DriverUnderTest:
        """The run's shared driver instance in a DHSS mode, built and set up once.

        A failure is remembered, so every check that needs the driver reports the same cause.
        """
        mode = self.profile.dhss if dhss is None else dhss
        with self._lock:
            cached = self._drivers.get(mode)
        if cached is None:
            try:
                dut = self.new_driver(mode)
                from manila import context

                ctx = context.get_admin_context()
                call_with_timeout(dut.driver.do_setup, self.check_timeout, "do_setup", ctx)
                call_with_timeout(dut.driver.check_for_setup_error, self.check_timeout,
                                  "check_for_setup_error")
                cached = dut
            except Exception as exc:  # noqa: BLE001 - remembered and re-raised per check
                cached = exc
            with self._lock:
                self._drivers[mode] = cached
        if isinstance(cached, CallTimeout):
            raise cached
        if isinstance(cached, BaseException):
            raise DriverUnavailable(f"driver set-up failed: {error_text(cached)}")
        return cached

    def finish_cleanup(self) -> None:
        """Delete everything the run still holds (bounded after a stop or an interrupt).

        A signal that arrives during this clean-up interrupts the run but not the clean-up,
        which carries on within the clean-up timeout; the next signal ends it, and what is left
        is listed as leaked.
        """
        while True:
            if self.stop_reason or self.interrupted:
                self.ledger.stop()
            leftovers = self.ledger.outstanding()
            if not leftovers:
                return
            already_interrupted = self.interrupted
            if self.progress:
                self.progress(f"cleaning up {len(leftovers)} back-end object(s) the run created")
            try:
                self.ledger.cleanup(progress=self.progress, final=already_interrupted)
                return
            except KeyboardInterrupt:
                self.interrupted = True
                if already_interrupted:
                    self.cleanup_interrupted = True
                    return

    def model_factory(self, pool: str | None) -> ModelFactory:
        """Models for this run, placed on a pool."""
        return ModelFactory(self.run_id, self.profile.name, pool)


class DriverUnavailable(Exception):
    """The driver could not be built or set up; checks that need it are errors."""
