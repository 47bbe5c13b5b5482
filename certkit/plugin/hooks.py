"""The hooks of one certification run: parametrisation and gating, per-check deadlines, results
read from pytest's reports, stopping on a hung driver, and the end-of-run clean-up."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from certkit.catalogue import FEATURES_BY_ID
from certkit.manila_abc import available_in_installed_manila, missing_methods
from certkit.contract.checks import CheckInfo, check_info
from certkit.deadlines import with_deadline
from certkit.plugin.apitier import TEMPEST_PARAM, bridge_of, parametrize_api
from certkit.plugin.fixtures import RUN_KEY
from certkit.plugin.outcomes import (PhaseOutcome, classify, describe_skip, final_outcome,
                                     one_line, skip_marker_reason)
from certkit.profile import Profile
from certkit.session import CertificationRun, CheckResult


def resolved_feature(item: pytest.Item, info: CheckInfo) -> str:
    """The check's feature, with `{access_type}` filled in from the variant's parameters."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    return info.feature.format(**params) if "{" in info.feature else info.feature


def skip_reason(profile: Profile, feature_id: str) -> str | None:
    """Why a check of this feature does not run for this profile, or None."""
    feat = FEATURES_BY_ID.get(feature_id)
    if feat is None:
        return f"unknown feature {feature_id!r}"
    if not profile.claims(feature_id):
        return f"feature {feature_id} is not claimed by the profile"
    if not available_in_installed_manila(feat):
        return (f"feature {feature_id} needs {', '.join(missing_methods(feat))}, which the "
                "installed Manila's ShareDriver does not define")
    return None


def suite_of(item: pytest.Item) -> str:
    """The suite a check belongs to: the directory under `suites/` its file lives in."""
    parts = item.path.parts
    return parts[parts.index("suites") + 1] if "suites" in parts[:-1] else item.path.parent.name


def check_timeout(run: CertificationRun, info: CheckInfo | None, suite: str = "") -> float | None:
    """The deadline of a check: the user's timeout (`timeouts.api_check` for the API suite, whose
    checks wait on real services); a check may only lower it, never raise it."""
    user = run.api_check_timeout if suite == "api" else run.check_timeout
    if info is not None and info.timeout and user:
        return min(info.timeout, user)
    return user


class CertkitPlugin:
    """Binds one CertificationRun to a pytest session (the runner's, or plain pytest's)."""

    def __init__(self, run: CertificationRun) -> None:
        self.run = run
        self.session: pytest.Session | None = None
        self.selected: dict[str, CheckResult] = {}
        """nodeid -> the check's identity (outcome filled in when it has run)."""
        self.phases: dict[str, dict[str, PhaseOutcome]] = {}
        self.durations: dict[str, float] = {}

    # -- configuration and collection -------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[RUN_KEY] = self.run

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        profile = self.run.profile
        names = metafunc.fixturenames
        if "access_type" in names:
            pairs = [(proto, kind) for proto, kinds in profile.access_types.items() for kind in kinds]
            metafunc.parametrize("proto,access_type", pairs, ids=[f"{p}-{k}" for p, k in pairs])
        elif "proto" in names:
            metafunc.parametrize("proto", list(profile.protocols))
        parametrize_api(metafunc, self.run)
        if TEMPEST_PARAM in names:
            bridge_of(metafunc.config).parametrize(metafunc)

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        """`-k <uuid>` selects a check: its id is one of its keywords."""
        info = check_info(item)
        if info is not None:
            item.extra_keyword_matches.add(info.id)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A suite file that does not import is an error of the run, not a silent gap."""
        if report.failed:
            lines = str(report.longrepr).strip().splitlines()
            self.run.collection_errors.append(
                f"{report.nodeid or 'suites'}: {lines[-1] if lines else 'collection failed'}")

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """Gate checks by the profile's claims; a test without @check is a collection error."""
        kept = []
        for item in items:
            info = check_info(item)
            if info is None:
                self.run.collection_errors.append(
                    f"{item.nodeid}: not a certkit check (every test in suites/ needs "
                    "@check(<uuid4>, <feature>))")
                continue
            kept.append(item)
            reason = skip_reason(self.run.profile, resolved_feature(item, info))
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
            callspec = getattr(item, "callspec", None)
            self.selected[item.nodeid] = CheckResult(
                id=info.id, name=getattr(item, "originalname", item.name),
                feature=resolved_feature(item, info), level=info.level, outcome="skipped",
                duration=0.0, variant=callspec.id if callspec else "", suite=suite_of(item))
        items[:] = kept
        for nodeid, level in bridge_of(config).attach(kept).items():
            self.selected[nodeid].level = level

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.run.deselected += len(items)
        for item in items:
            self.selected.pop(item.nodeid, None)

    # -- running a check --------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> Iterator[Any]:
        """Run the check body under its deadline (a hang becomes an `error` and stops the run)."""
        original = pyfuncitem.obj
        timeout = check_timeout(self.run, check_info(pyfuncitem), suite_of(pyfuncitem))
        pyfuncitem.obj = with_deadline(original, timeout, f"check {pyfuncitem.name}")
        try:
            return (yield)
        finally:
            pyfuncitem.obj = original

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
        """Attach certkit's reading of the phase to pytest's report (as skipping.py does)."""
        report = yield
        excinfo = call.excinfo
        if report.skipped and excinfo is not None and excinfo.errisinstance(pytest.skip.Exception):
            report.certkit = PhaseOutcome("skipped", describe_skip(excinfo.value))
        elif report.skipped:
            report.certkit = PhaseOutcome("skipped", skip_marker_reason(report.longrepr))
        else:
            report.certkit = classify(excinfo.value if excinfo is not None else None)
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect each phase; after teardown the check's result is final."""
        if report.nodeid not in self.selected:
            return
        phase = getattr(report, "certkit", None) or PhaseOutcome(
            "passed" if report.passed else "error", str(report.longrepr or ""))
        self.phases.setdefault(report.nodeid, {})[report.when] = phase
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration
        if phase.hung:
            self.stop(phase.message)
        if report.when == "teardown":
            if self.run.ledger.hung:
                self.stop(self.run.ledger.hung[0])
            self._record(report.nodeid)

    def _record(self, nodeid: str) -> None:
        final = final_outcome(self.phases.pop(nodeid, {}))
        result = self.selected[nodeid]
        result.outcome = final.outcome
        result.message = one_line(self.run.profile.redact(final.message))
        result.duration = round(self.durations.pop(nodeid, 0.0), 4)
        self.run.results.append(result)
        if self.run.progress:
            done = len(self.run.results)
            self.run.progress(f"[{done:>3}/{len(self.selected)}] {result.outcome:<7} "
                              f"{result.name}{f'[{result.variant}]' if result.variant else ''} "
                              f"({result.duration:.2f} s)")

    def stop(self, reason: str) -> None:
        """A driver call is still running after its timeout: stop the run, bound the clean-up."""
        if self.run.stop_reason is None:
            self.run.stop_reason = f"a driver call hung: {reason}"
            self.run.ledger.stop()
        if self.session is not None:
            self.session.shouldstop = self.run.stop_reason

    # -- end of the run ---------------------------------------------------------------------
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        if not isinstance(excinfo.value, pytest.Session.Interrupted):
            self.run.interrupted = True
            self.run.ledger.stop()

    def pytest_internalerror(self, excrepr: Any, excinfo: pytest.ExceptionInfo[BaseException]) -> bool:
        """Recorded for the verdict (partial); True: no raw traceback on stderr, which could
        carry a secret (in plain pytest mode the terminal reporter still shows it)."""
        lines = str(excrepr).strip().splitlines()
        message = one_line(self.run.profile.redact(lines[-1] if lines else "?"))
        self.run.internal_errors.append(message)
        if self.run.progress:
            self.run.progress(f"pytest internal error: {message}")
        return True

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Checks that never ran are reported as not run; everything the run created is deleted."""
        self.run.pytest_exit = int(exitstatus)
        recorded = {id(r) for r in self.run.results}
        missing = [r for r in self.selected.values() if id(r) not in recorded]
        if missing:
            why = self.run.stop_reason or ("the run was interrupted" if self.run.interrupted else
                                           f"pytest stopped early (exit status {int(exitstatus)})")
            for result in missing:
                result.outcome, result.message = "skipped", one_line(f"not run: {why}")
                self.run.results.append(result)
            self.run.not_run += len(missing)
        self.run.finish_cleanup()
