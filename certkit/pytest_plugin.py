"""The certkit pytest plugin: fixtures for the driver under test, its profile and resource
factories; feature gating, per-check timeouts and outcome recording for contract checks.

The runner loads it with a CertificationRun already made; a developer can also run a suite with
plain pytest: `pytest -p certkit.pytest_plugin --certkit-profile PROFILE suites/contract`.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from certkit.contract.catalogue import FEATURES_BY_ID, available_in_installed_manila, missing_methods
from certkit.contract.checks import MARK, CheckInfo, check_info
from certkit.contract.resources import Resources
from certkit.harness.driver import DriverUnderTest, raised_by
from certkit.harness.models import ModelFactory
from certkit.harness.timeouts import CallTimeout, call_with_timeout
from certkit.profile import Profile, load_profile
from certkit.session import CertificationRun, CheckResult, DriverUnavailable
from certkit.text import one_line

RUN_KEY = pytest.StashKey[CertificationRun]()
_PHASES = pytest.StashKey[dict[str, Any]]()
MESSAGE_LIMIT = 500


# -- configuration ----------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("certkit")
    group.addoption("--certkit-profile", default=None, help="driver profile to certify")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARK}(info): a certkit contract check (use certkit.contract.checks.check)")
    if RUN_KEY not in config.stash:
        path = config.getoption("certkit_profile", None)
        if path:
            config.stash[RUN_KEY] = CertificationRun(load_profile(path))


def certification_run(config: pytest.Config) -> CertificationRun:
    """The run this pytest session serves."""
    try:
        return config.stash[RUN_KEY]
    except KeyError:
        raise pytest.UsageError("certkit: no profile; use `certkit run PROFILE` or "
                                "--certkit-profile PROFILE") from None


# -- parametrisation and gating -----------------------------------------------------------------
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if RUN_KEY not in metafunc.config.stash:
        return
    profile = metafunc.config.stash[RUN_KEY].profile
    names = metafunc.fixturenames
    if "access_type" in names:
        pairs = [(proto, kind) for proto, kinds in profile.access_types.items() for kind in kinds]
        metafunc.parametrize("proto,access_type", pairs, ids=[f"{p}-{k}" for p, k in pairs])
    elif "proto" in names:
        metafunc.parametrize("proto", list(profile.protocols))


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run = certification_run(config)
    for item in items:
        info = check_info(item)
        if info is None:
            item.add_marker(pytest.mark.skip(reason="not a certkit check (no @check marker)"))
            continue
        reason = skip_reason(run.profile, resolved_feature(item, info))
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


class RunBinding:
    """Binds a CertificationRun made by the runner to a pytest session."""

    def __init__(self, run: CertificationRun) -> None:
        self.run = run

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[RUN_KEY] = self.run

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A suite file that does not import is an error of the run, not a silent gap."""
        if report.failed:
            lines = str(report.longrepr).strip().splitlines()
            self.run.collection_errors.append(
                f"{report.nodeid or 'suites'}: {lines[-1] if lines else 'collection failed'}")


# -- per-check timeout --------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool:
    """Run the check body under its deadline (a hang becomes an `error` outcome)."""
    run = certification_run(pyfuncitem.config)
    info = check_info(pyfuncitem)
    timeout = (info.timeout if info and info.timeout else None) or run.check_timeout
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    call_with_timeout(pyfuncitem.obj, timeout, f"check {pyfuncitem.name}", **args)
    return True


# -- outcome recording --------------------------------------------------------------------------
def classify(excinfo: pytest.ExceptionInfo[BaseException] | None) -> tuple[str, str]:
    """(outcome, one-line message) for a phase's exception."""
    if excinfo is None:
        return "passed", ""
    exc = excinfo.value
    if isinstance(exc, pytest.skip.Exception):
        return "skipped", str(exc.msg)
    if isinstance(exc, (CallTimeout, DriverUnavailable)):
        return "error", str(exc)
    method = raised_by(exc)
    if method is not None:
        kind = "" if _is_manila_exception(exc) else (
            " (not a manila.exception type: the share manager cannot handle it)")
        return "failed", f"driver.{method} raised {type(exc).__name__}{kind}: {exc}"
    if isinstance(exc, AssertionError):
        return "failed", str(exc) or "assertion failed"
    return "error", f"{type(exc).__name__}: {exc} (in the check or harness, not the driver)"


def _is_manila_exception(exc: BaseException) -> bool:
    from manila import exception

    return isinstance(exc, (exception.ManilaException, NotImplementedError))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    phases = item.stash.setdefault(_PHASES, {"duration": 0.0})
    phases["duration"] += report.duration
    if report.skipped and call.excinfo is not None and call.excinfo.errisinstance(pytest.skip.Exception):
        phases[call.when] = ("skipped", str(call.excinfo.value.msg))
    elif report.skipped:  # skip marker: longrepr is (file, line, reason)
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        phases[call.when] = ("skipped", reason.removeprefix("Skipped: "))
    else:
        phases[call.when] = classify(call.excinfo)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[Any]:
    result_of_protocol = yield
    run = certification_run(item.config)
    info = check_info(item)
    phases = item.stash.get(_PHASES, {"duration": 0.0})
    outcome, message = _final_outcome(phases)
    callspec = getattr(item, "callspec", None)
    result = CheckResult(
        id=info.id if info else "", name=getattr(item, "originalname", item.name),
        feature=resolved_feature(item, info) if info else "", level=info.level if info else "",
        outcome=outcome, duration=round(phases["duration"], 4),
        message=one_line(run.profile.redact(message), MESSAGE_LIMIT, keep_end=True), variant=callspec.id if callspec else "",
        suite=suite_of(item))
    run.results.append(result)
    if run.progress:
        run.progress(_progress_line(run, item, result))
    return result_of_protocol


def suite_of(item: pytest.Item) -> str:
    """The suite a check belongs to: the directory under `suites/` its file lives in."""
    parts = item.path.parts
    return parts[parts.index("suites") + 1] if "suites" in parts[:-1] else item.path.parent.name


def _final_outcome(phases: dict[str, Any]) -> tuple[str, str]:
    setup = phases.get("setup", ("passed", ""))
    if setup[0] != "passed":
        return setup
    call = phases.get("call", ("passed", ""))
    teardown = phases.get("teardown", ("passed", ""))
    if call[0] == "passed" and teardown[0] not in ("passed", "skipped"):
        return "error", f"teardown: {teardown[1]}"
    return call


def _progress_line(run: CertificationRun, item: pytest.Item, result: CheckResult) -> str:
    done = len(run.results)
    total = item.session.testscollected
    return f"[{done:>3}/{total}] {result.outcome:<7} {item.name} ({result.duration:.2f} s)"


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def certkit_run(request: pytest.FixtureRequest) -> CertificationRun:
    """The certification run."""
    return certification_run(request.config)


@pytest.fixture(scope="session")
def profile(certkit_run: CertificationRun) -> Profile:
    """The profile under certification."""
    return certkit_run.profile


@pytest.fixture(scope="session")
def dut(certkit_run: CertificationRun) -> DriverUnderTest:
    """The driver under test (first DHSS mode), built and set up once per run."""
    return certkit_run.driver()


@pytest.fixture(scope="session")
def driver(dut: DriverUnderTest) -> Any:
    """The driver object (a proxy that times calls)."""
    return dut.driver


@pytest.fixture
def context() -> Any:
    """An admin request context, as the share manager uses."""
    from manila import context as manila_context

    return manila_context.get_admin_context()


@pytest.fixture(scope="session")
def stats(certkit_run: CertificationRun, driver: Any) -> dict[str, Any]:
    """get_share_stats(refresh=True), once per run (checks that judge stats call it themselves)."""
    value = call_with_timeout(driver.get_share_stats, certkit_run.check_timeout,
                              "get_share_stats", refresh=True)
    if not isinstance(value, dict):
        raise DriverUnavailable(f"get_share_stats returned {type(value).__name__}, not a dict")
    return value


@pytest.fixture(scope="session")
def pool(profile: Profile, stats: dict[str, Any]) -> str | None:
    """The pool shares are placed on: the profile's `pool`, else the first reported pool."""
    if profile.raw.get("pool"):
        return str(profile.raw["pool"])
    pools = stats.get("pools") or []
    return pools[0].get("pool_name") if pools and isinstance(pools[0], dict) else None


@pytest.fixture(scope="session")
def models(certkit_run: CertificationRun, pool: str | None) -> ModelFactory:
    """Model factory for this run (ids carry the run id)."""
    return certkit_run.model_factory(pool)


@pytest.fixture
def resources(certkit_run: CertificationRun, driver: Any, context: Any,
              models: ModelFactory) -> Iterator[Resources]:
    """Create shares/snapshots through the driver; whatever the check leaves is deleted after it."""
    res = Resources(driver, context, models, certkit_run.ledger,
                    poll_timeout=certkit_run.profile.timeouts["status_poll"],
                    default_size=certkit_run.profile.share_size_gb)
    yield res
    res.cleanup()


@pytest.fixture(scope="session")
def server_dut(certkit_run: CertificationRun) -> DriverUnderTest:
    """The driver in DHSS=True mode (only for profiles that claim it)."""
    if True not in certkit_run.profile.dhss_modes:
        pytest.skip("the profile does not claim driver_handles_share_servers=True")
    return certkit_run.driver(True)


@pytest.fixture
def server_resources(certkit_run: CertificationRun, server_dut: DriverUnderTest, context: Any,
                     models: ModelFactory) -> Iterator[Resources]:
    """Resources on the DHSS=True driver (set `share_server` after setting one up)."""
    res = Resources(server_dut.driver, context, models, certkit_run.ledger,
                    poll_timeout=certkit_run.profile.timeouts["status_poll"],
                    default_size=certkit_run.profile.share_size_gb)
    yield res
    res.cleanup()
