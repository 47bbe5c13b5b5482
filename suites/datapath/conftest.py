"""Fixtures of the data-path suite: the client host and a mounter whose mounts are recorded with each check's resources."""

from __future__ import annotations

from typing import Iterator

import pytest

from certkit.clienthost import ClientHost
from certkit.datapath import Mounter


@pytest.fixture(scope="session")
def client(certkit_run) -> Iterator[ClientHost]:
    """The profile's first client host, connected (host key checked)."""
    hosts = certkit_run.profile.client_hosts
    if not hosts:
        pytest.skip("the profile lists no client_hosts: the data path cannot be checked")
    host = ClientHost.from_profile(hosts[0])
    host.connect()
    yield host
    host.close()


@pytest.fixture(scope="session")
def run_mounter(client, certkit_run, profile) -> Iterator[Mounter]:
    """The run's mounter; at the end of the run its work directory on the client host
    (keyrings included) is removed."""
    unsupported = [p for p in profile.protocols if p not in Mounter.SUPPORTED]
    if len(unsupported) == len(profile.protocols):
        pytest.skip(f"certkit has no mount helper for {', '.join(unsupported)} yet")
    mnt = Mounter(client, None, certkit_run.run_id)
    yield mnt
    mnt.close()


@pytest.fixture
def mounter(run_mounter, resources) -> Mounter:
    """Mounts on the client host, recorded with the check's resources: whatever a check leaves
    mounted is unmounted after it, before its shares are deleted (newest first)."""
    run_mounter.tracker = resources
    return run_mounter
