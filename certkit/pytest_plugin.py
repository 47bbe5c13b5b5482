"""The certkit pytest plugin's entry point: its option, its marker and its fixtures.

The runner loads it with a CertificationRun already bound (certkit.plugin.hooks.CertkitPlugin);
a developer can also run a suite with plain pytest, which gets the same hooks, clean-up included:
`pytest -p certkit.pytest_plugin --certkit-profile PROFILE suites/contract`.
"""

from __future__ import annotations

import pytest

from certkit.contract.checks import MARK, PER_TEST_MARK
from certkit.plugin.fixtures import (RUN_KEY, certification_run, certkit_run, context, driver,  # noqa: F401
                                     dut, models, pool, profile, resources, server_dut,
                                     server_resources, stats)
from certkit.plugin.apitier import api, target, tempest_result  # noqa: F401
from certkit.plugin.clienthost import api_mounter, client_host, mounter, run_mounter  # noqa: F401
from certkit.plugin.hooks import CertkitPlugin
from certkit.profile import load_profile
from certkit.session import CertificationRun


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("certkit")
    group.addoption("--certkit-profile", default=None, help="driver profile to certify")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARK}(info): a certkit contract check (use certkit.contract.checks.check)")
    config.addinivalue_line("markers", f"{PER_TEST_MARK}: one check per outside test (use "
                                       "certkit.contract.checks.checks_per_test)")
    if RUN_KEY not in config.stash:
        path = config.getoption("certkit_profile", None)
        if not path:
            raise pytest.UsageError("certkit: no profile; use `certkit run PROFILE` or "
                                    "--certkit-profile PROFILE")
        run = CertificationRun(load_profile(path))
        config.stash[RUN_KEY] = run
        config.pluginmanager.register(CertkitPlugin(run), "certkit-run")
