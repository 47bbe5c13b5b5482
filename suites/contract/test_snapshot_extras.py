"""Revert to snapshot and mountable snapshots."""

from __future__ import annotations

from certkit.contract.checks import check


@check("ccfc6718-0de8-4e60-a886-0d54e8603d5e", "revert_to_snapshot")
def test_revert_to_snapshot(resources, profile):
    """revert_to_snapshot returns None, the new size, or {'status': 'reverting_to_snapshot'}
    followed by get_share_status reaching 'available'."""
    share = resources.create_share(profile.protocols[0])
    snapshot = resources.create_snapshot(share)
    resources.revert_to_snapshot(share, snapshot)
    resources.delete_snapshot(snapshot)
    resources.delete_share(share)


@check("d128aec9-619f-44e3-a530-ad93d366c14f", "mountable_snapshot")
def test_snapshot_export_locations_and_access(resources, profile):
    """A mountable snapshot has export locations (path + is_admin_only) and accepts
    snapshot_update_access add and delete."""
    proto = profile.protocols[0]
    share = resources.create_share(proto)
    snapshot = resources.create_snapshot(share)
    resources.snapshot_export_locations(snapshot)
    kind = profile.access_types.get(proto, ("ip",))[0]
    rule = resources.models.access_rule(share, kind, resources.access_to(kind, 7), "ro")
    resources.snapshot_update_access(snapshot, [rule], add=[rule])
    resources.snapshot_update_access(snapshot, [], delete=[rule])
    resources.delete_snapshot(snapshot)
