"""Fixtures of the data-path suite: the client host and a mounter bound to the run's ledger."""

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


@pytest.fixture
def mounter(client, certkit_run, profile, resources) -> Mounter:
    """Mounts on the client host, recorded with the check's resources: whatever a check leaves
    mounted is unmounted after it, before its shares are deleted (newest first)."""
    unsupported = [p for p in profile.protocols if p not in Mounter.SUPPORTED]
    if len(unsupported) == len(profile.protocols):
        pytest.skip(f"certkit has no mount helper for {', '.join(unsupported)} yet")
    return Mounter(client, resources, certkit_run.run_id)
