"""Snapshots and shares created from them."""

from __future__ import annotations

from certkit.contract.checks import check
from certkit.contract.resources import tolerating_not_found


@check("8df1f1df-895e-4793-95a8-eb40013711dc", "snapshot")
def test_create_and_delete_snapshot(resources, profile):
    """create_snapshot returns None or a model update matching its schema; delete removes it."""
    share = resources.create_share(profile.protocols[0])
    snapshot = resources.create_snapshot(share)
    resources.delete_snapshot(snapshot)


@check("82bc8cec-757a-435c-8aeb-2df9b4c92381", "snapshot")
def test_delete_snapshot_twice_is_not_an_error(resources, profile):
    """Deleting an already deleted snapshot succeeds (or raises SnapshotResourceNotFound)."""
    share = resources.create_share(profile.protocols[0])
    snapshot = resources.create_snapshot(share)
    resources.delete_snapshot(snapshot)
    tolerating_not_found(lambda: resources.delete_snapshot(snapshot))()


@check("9a4fc2ff-06a7-4fad-88bd-34174f20886b", "create_from_snapshot")
def test_create_share_from_snapshot(resources, proto):
    """create_share_from_snapshot returns {'status', 'export_locations'} (or the legacy list);
    `creating_from_snapshot` is followed through get_share_status to `available`."""
    share = resources.create_share(proto)
    snapshot = resources.create_snapshot(share)
    child = resources.create_share_from_snapshot(snapshot)
    resources.delete_share(child)
    resources.delete_snapshot(snapshot)
