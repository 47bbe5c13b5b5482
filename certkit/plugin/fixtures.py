"""The fixtures checks ask for: the run, the profile, the driver under test and resource factories."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from certkit.contract.resources import Resources
from certkit.harness.driver import DriverUnderTest
from certkit.harness.models import ModelFactory
from certkit.harness.timeouts import call_with_timeout
from certkit.profile import Profile
from certkit.session import CertificationRun, DriverUnavailable

RUN_KEY = pytest.StashKey[CertificationRun]()


def certification_run(config: pytest.Config) -> CertificationRun:
    """The run this pytest session serves."""
    try:
        return config.stash[RUN_KEY]
    except KeyError:
        raise pytest.UsageError("certkit: no profile; use `certkit run PROFILE` or "
                                "--certkit-profile PROFILE") from None


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


def _resources(run: CertificationRun, driver: Any, context: Any, models: ModelFactory) -> Resources:
    return Resources(driver, context, models, run.ledger,
                     poll_timeout=run.profile.timeouts["status_poll"],
                     default_size=run.profile.share_size_gb)


@pytest.fixture
def resources(certkit_run: CertificationRun, driver: Any, context: Any,
              models: ModelFactory) -> Iterator[Resources]:
    """Create shares/snapshots through the driver; whatever the check leaves is deleted after it."""
    res = _resources(certkit_run, driver, context, models)
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
    res = _resources(certkit_run, server_dut.driver, context, models)
    yield res
    res.cleanup()
