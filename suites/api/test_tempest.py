"""manila-tempest-plugin's API tests as certkit checks: tempest runs once (in parallel workers)
when this module is collected, and each tempest test becomes one check keyed by its idempotent id.

Levels: a test tempest ran (passed or failed) is `required`; a test tempest skipped is a skip at
`recommended` level (tempest.conf, generated from the claims, decides what runs, so a claimed
feature whose tests were all skipped has no required check and stays unverified); a test in
known_failures.yaml is `recommended`, its outcome unchanged, the reason in its message.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from certkit.contract.checks import check

KNOWN_FAILURES = Path(__file__).with_name("known_failures.yaml")


def known_failures() -> dict[str, str]:
    """{tempest test id without [..]: reason} from the reviewed file."""
    entries = yaml.safe_load(KNOWN_FAILURES.read_text()) or []
    return {e["test"]: " ".join(str(e["reason"]).split()) for e in entries}


def _params(run) -> list:
    from certkit.livestack.target import resolve_target
    from certkit.livestack.tempest_features import base_name, feature_of, idempotent_id
    from certkit.livestack.tempest_run import run_tempest

    profile = run.profile
    outcome = run_tempest(profile, resolve_target(profile), progress=run.progress)
    known = known_failures()
    params = []
    for result in outcome.results:
        reason = known.get(base_name(result.test_id))
        level = "recommended" if reason or result.outcome == "skipped" else "required"
        message = result.message
        if reason:
            message = f"known environment failure (suites/api/known_failures.yaml): {reason}" + (
                f"; tempest: {message}" if message else "")
        marks = [check(idempotent_id(result.test_id), feature_of(result.test_id, profile.claimed),
                       level)]
        params.append(pytest.param((result, message), id=result.test_id, marks=marks))
    return params


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "tempest_result" not in metafunc.fixturenames:
        return
    from certkit.pytest_plugin import certification_run

    metafunc.parametrize("tempest_result", _params(certification_run(metafunc.config)))


def test_tempest(tempest_result) -> None:
    """The outcome tempest reported for this test (skips are skips, never passes)."""
    result, message = tempest_result
    if result.outcome == "skipped":
        pytest.skip(message or "skipped by tempest")
    if result.outcome == "error":
        raise RuntimeError(message)
    assert result.outcome == "passed", message or "failed in tempest"
