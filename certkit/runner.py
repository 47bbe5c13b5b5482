"""Perform a certification run: the suites against a profile's driver through pytest, clean-up,
signals, and the report."""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from certkit.apitier.target import ApiTarget
from certkit.check_catalogue import suite_names, suites_dir
from certkit.errors import CertkitError
from certkit.profile import Profile
from certkit.report import build_report
from certkit.session import CertificationRun

DEFAULT_SUITES = ("contract",)


def suites_root() -> Path:
    """Where the suites live: `certkit.suites` (the repository's `suites/` directory)."""
    return suites_dir()


def available_suites() -> list[str]:
    """Suite names: the sub-packages of `suites` that hold tests."""
    return suite_names(suites_root())


def drift_of(profile: Profile) -> dict[str, list[str]]:
    """The static audit's verdict on the profile's claims (false claims are errors)."""
    try:
        from certkit.audit import profile_drift
    except ImportError:
        return {"errors": [], "notes": []}
    drift = profile_drift(profile)
    return {"errors": list(drift.errors), "notes": list(drift.notes)}


@dataclass(frozen=True)
class FinishedRun:
    """A finished certification run: its report and the pytest exit status."""

    report: dict[str, Any]
    pytest_exit: int | None
    signal: str | None = None
    """SIGINT or SIGTERM when a signal interrupted the run."""


def pytest_args(suites: Sequence[str], keyword: str | None) -> list[str]:
    """Arguments for an isolated pytest session over the chosen suites."""
    root = suites_root()
    unknown = [s for s in suites if not (root / s).is_dir()]
    if unknown:
        raise CertkitError(f"--suite: unknown suite {unknown[0]!r} "
                           f"(available: {', '.join(available_suites())})")
    args = [str(root / s) for s in suites]
    args += ["-c", os.devnull, "--rootdir", str(root.parent), "--import-mode=importlib",
             "-p", "no:terminal", "-p", "no:cacheprovider", "-p", "no:stepwise",
             "--continue-on-collection-errors",
             "-W", "ignore::DeprecationWarning", "-o", "python_files=test_*.py"]
    if keyword:
        args += ["-k", keyword]
    return args


@contextlib.contextmanager
def interrupts(run: CertificationRun) -> Iterator[None]:
    """SIGTERM is handled like Ctrl-C (KeyboardInterrupt: checks stop, clean-up runs, the report
    is written); the second signal stops the clean-up; later ones are ignored while the report
    is written. The previous handlers are restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    count = 0

    def handler(signum: int, frame: Any) -> None:
        nonlocal count
        count += 1
        if run.signal is None:
            run.signal = signal.Signals(signum).name
        run.interrupted = True
        if count <= 2:
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def only_certkit_plugins() -> Iterator[None]:
    """The suites' pytest session loads certkit's plugin only: a third-party pytest plugin
    installed beside certkit (anyio's imports trio, which breaks under Manila's eventlet) must
    not be able to crash a certification."""
    saved = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved


def run_certification(profile: Profile, *, suites: Sequence[str] = DEFAULT_SUITES,
                      keyword: str | None = None, progress: Callable[[str], None] | None = None,
                      driver_class: type | None = None, check_timeout: float | None = None,
                      audit: bool = True, api_target: ApiTarget | None = None,
                      explore_options: Any = None) -> FinishedRun:
    """Audit the claims, run the suites, delete what the run created, and build the report."""
    import pytest

    from certkit import pytest_plugin
    from certkit.plugin.hooks import CertkitPlugin

    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    start = time.perf_counter()
    run = CertificationRun(profile, driver_class=driver_class, check_timeout=check_timeout,
                           progress=progress, keyword=keyword or None, api_target=api_target,
                           explore_options=explore_options)
    drift = drift_of(profile) if audit and driver_class is None else {"errors": [], "notes": []}
    if drift["errors"]:
        if progress:
            for line in drift["errors"]:
                progress(f"false claim: {line}")
        report = build_report(run, started_at=started, duration=time.perf_counter() - start,
                              suites=suites, drift=drift)
        return FinishedRun(report, None)
    args = pytest_args(suites, keyword)
    with interrupts(run), only_certkit_plugins():
        try:
            run.pytest_exit = int(pytest.main(args, plugins=[pytest_plugin, CertkitPlugin(run)]))
            if run.pytest_exit == int(pytest.ExitCode.USAGE_ERROR):
                raise CertkitError("pytest refused the suite arguments (see above)")
        except KeyboardInterrupt:
            run.interrupted = True
        finally:
            run.finish_cleanup()  # whatever pytest's own end of session did not reach
        report = build_report(run, started_at=started, duration=time.perf_counter() - start,
                              suites=suites, drift=drift)
    return FinishedRun(report, run.pytest_exit, run.signal)
