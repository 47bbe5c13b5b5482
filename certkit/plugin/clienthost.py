"""The client host side of the plugin: the profile's client host, the run's Mounter, and where
each check's mounts are recorded (the data-path suite's `Resources`, or the run's ledger for the
API suite), so a mount is undone after its check, also when it fails, and at the latest in the
end-of-run clean-up (Ctrl-C, SIGTERM) before the run's work directory and keyrings go."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator

import pytest

from certkit.clienthost import ClientHost
from certkit.contract.resources import Resources
from certkit.datapath import Mounter
from certkit.harness.ledger import Entry, ResourceLedger
from certkit.profile import Profile
from certkit.session import CertificationRun

if TYPE_CHECKING:
    from certkit.apitier.client import ManilaClient


NO_CLIENT = "the profile lists no client_hosts: the data path cannot be checked"


class MountRecords:
    """One check's mounts on the run's ledger (a check of the API suite has no `Resources`)."""

    def __init__(self, ledger: ResourceLedger) -> None:
        self.ledger = ledger
        self.entries: list[Entry] = []

    def track(self, kind: str, obj_id: str, name: str, delete: Callable[[], object]) -> Entry:
        """Record a mount before it is made."""
        entry = self.ledger.track(kind, obj_id, name, delete)
        self.entries.append(entry)
        return entry

    def release(self, obj: str | Entry) -> None:
        """The mount (its mountpoint, or its entry) is gone."""
        for entry in self.entries:
            if entry is obj or entry.id == obj:
                self.ledger.release(entry)

    def cleanup(self) -> None:
        """Unmount what the check left, newest first."""
        mine = {id(e) for e in self.entries}
        self.ledger.cleanup(only=lambda e: id(e) in mine)


@pytest.fixture(scope="session")
def client_host(certkit_run: CertificationRun) -> Iterator[ClientHost]:
    """The profile's first client host, connected (host key checked)."""
    hosts = certkit_run.profile.client_hosts
    if not hosts:
        pytest.skip(NO_CLIENT)
    host = ClientHost.from_profile(hosts[0])
    host.connect()
    yield host
    host.close()


@pytest.fixture(scope="session")
def run_mounter(request: pytest.FixtureRequest, certkit_run: CertificationRun,
                profile: Profile) -> Iterator[Mounter]:
    """The run's mounter (the client host is connected only when a protocol can be mounted);
    at the end of the run its work directory on the client host (keyrings included) is removed."""
    if not profile.client_hosts:
        pytest.skip(NO_CLIENT)
    unsupported = [p for p in profile.protocols if p not in Mounter.SUPPORTED]
    if len(unsupported) == len(profile.protocols):
        pytest.skip(f"certkit has no mount helper for {', '.join(unsupported)} yet")
    mnt = Mounter(request.getfixturevalue("client_host"), None, certkit_run.run_id)
    yield mnt
    mnt.close()


@pytest.fixture
def mounter(run_mounter: Mounter, resources: Resources) -> Mounter:
    """Mounts on the client host, recorded with the check's resources: whatever a check leaves
    mounted is unmounted after it, before its shares are deleted (newest first)."""
    run_mounter.tracker = resources
    return run_mounter


@pytest.fixture
def api_mounter(run_mounter: Mounter, api: "ManilaClient",
                certkit_run: CertificationRun) -> Iterator[Mounter]:
    """Mounts for the API suite: set up after `api`, so what a check leaves mounted is unmounted
    before the client deletes the check's shares; the run's ledger holds them meanwhile (and
    its final clean-up unmounts them after Ctrl-C or SIGTERM)."""
    records = MountRecords(certkit_run.ledger)
    run_mounter.tracker = records
    yield run_mounter
    records.cleanup()
