"""Fixtures of the API suite: the Manila under test (lab or OS_* cloud) and a tempest.lib client
whose objects are deleted after each check."""

from __future__ import annotations

from typing import Iterator

import pytest


@pytest.fixture(scope="session")
def target(profile):
    """Where the checks send their requests."""
    from certkit.livestack.target import resolve_target

    return resolve_target(profile)


@pytest.fixture
def api(target, certkit_run) -> Iterator["ManilaClient"]:  # noqa: F821
    """A tempest.lib Manila client; what a check creates is deleted after it (also on failure)."""
    from certkit.livestack.client import ManilaClient

    client = ManilaClient(target, build_timeout=certkit_run.profile.timeouts["status_poll"])
    try:
        yield client
    finally:
        for problem in client.cleanup():
            certkit_run.warn(f"api suite cleanup: {problem}")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items) -> None:
    """After -k deselection and feature gating: run the selected tempest tests once."""
    from certkit.livestack.tempest_checks import attach_results

    attach_results(config, items)
