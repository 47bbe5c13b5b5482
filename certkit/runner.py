"""Run suites against a profile's driver through pytest, clean up, and judge the result."""

from __future__ import annotations

import datetime
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from certkit.errors import CertkitError
from certkit.profile import Profile
from certkit.report import build_report
from certkit.session import CertificationRun

DEFAULT_SUITES = ("contract",)


def suites_root() -> Path:
    """Where the suites live: `certkit.suites` (the repository's `suites/` directory)."""
    import certkit.suites

    return Path(certkit.suites.__file__).parent


def available_suites() -> list[str]:
    """Suite names: the sub-packages of `suites` that hold tests."""
    return sorted(p.name for p in suites_root().iterdir()
                  if p.is_dir() and (p / "__init__.py").exists() and any(p.glob("test_*.py")))


def drift_of(profile: Profile) -> dict[str, list[str]]:
    """The static audit's verdict on the profile's claims (false claims are errors)."""
    try:
        from certkit.audit import profile_drift
    except ImportError:
        return {"errors": [], "notes": []}
    drift = profile_drift(profile)
    return {"errors": list(drift.errors), "notes": list(drift.notes)}


@dataclass
class RunOutcome:
    """A finished run: its report and the pytest exit code."""

    report: dict[str, Any]
    pytest_exit: int


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


def run_certification(profile: Profile, *, suites: Sequence[str] = DEFAULT_SUITES,
                      keyword: str | None = None, progress: Callable[[str], None] | None = None,
                      driver_class: type | None = None, check_timeout: float | None = None,
                      audit: bool = True) -> RunOutcome:
    """Audit the claims, run the suites, delete what the run created, and build the report."""
    import pytest

    from certkit import pytest_plugin

    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    start = time.perf_counter()
    run = CertificationRun(profile, driver_class=driver_class, check_timeout=check_timeout,
                           progress=progress)
    drift = drift_of(profile) if audit and driver_class is None else {"errors": [], "notes": []}
    if drift["errors"]:
        if progress:
            for line in drift["errors"]:
                progress(f"false claim: {line}")
        report = build_report(run, started_at=started, duration=time.perf_counter() - start,
                              suites=suites, drift=drift, keyword=keyword)
        return RunOutcome(report, -1)
    interrupted = False
    exit_code = -1
    try:
        exit_code = int(pytest.main(pytest_args(suites, keyword),
                                    plugins=[pytest_plugin, pytest_plugin.RunBinding(run)]))
        interrupted = exit_code == int(pytest.ExitCode.INTERRUPTED) and not run.collection_errors
        if exit_code == int(pytest.ExitCode.USAGE_ERROR):
            raise CertkitError("pytest refused the suite arguments (see above)")
    except KeyboardInterrupt:
        interrupted = True
    finally:
        leftovers = run.ledger.outstanding()
        if leftovers and progress:
            progress(f"cleaning up {len(leftovers)} back-end object(s) the run created")
        run.ledger.cleanup(progress=progress)
    report = build_report(run, started_at=started, duration=time.perf_counter() - start,
                          suites=suites, drift=drift, interrupted=interrupted, keyword=keyword)
    return RunOutcome(report, exit_code)
