"""manila-tempest-plugin's API tests as certkit checks, keyed by their tempest idempotent ids.

Collection lists the selected plugin tests (`$CERTKIT_TEMPEST_REGEX`, default every API test);
after `-k` deselection, conftest.py runs exactly the selected ones once with `tempest run`
(parallel workers) and each check reports its test's outcome.

Levels: a test tempest ran (passed or failed) is `required`; a test tempest skipped is a skip at
`recommended` level (tempest.conf is generated from the claims, so a claimed feature whose tests
were all skipped has no required check and stays unverified); a test in known_failures.yaml is
`recommended` with its outcome unchanged and the reason in its message.
"""

from __future__ import annotations

import pytest

from certkit.contract.checks import check
from certkit.livestack.tempest_checks import RESULT_KEY, WORKSPACE_KEY



def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "tempest_test" not in metafunc.fixturenames:
        return
    from certkit.livestack.tempest_features import feature_of, idempotent_id
    from certkit.livestack.tempest_run import TempestWorkspace
    from certkit.livestack.target import resolve_target
    from certkit.pytest_plugin import certification_run

    run = certification_run(metafunc.config)
    workspace = TempestWorkspace(run.profile, resolve_target(run.profile))
    metafunc.config.add_cleanup(workspace.close)
    metafunc.config.stash[WORKSPACE_KEY] = workspace
    params = [pytest.param(test_id, id=test_id,
                           marks=[check(idempotent_id(test_id),
                                        feature_of(test_id, run.profile.claimed))])
              for test_id in workspace.list()]
    metafunc.parametrize("tempest_test", params)


def test_tempest(request, tempest_test) -> None:
    """The outcome tempest reported for this test (skips are skips, never passes)."""
    result, message = request.node.stash[RESULT_KEY]
    if result.outcome == "skipped":
        pytest.skip(message or "skipped by tempest")
    if result.outcome == "error":
        raise RuntimeError(message)
    assert result.outcome == "passed", message or "failed in tempest"
