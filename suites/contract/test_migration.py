"""Driver-assisted share migration and share-server migration (the calls are positional, as
the share manager makes them: see certkit/contract/migration.py)."""

from __future__ import annotations

import pytest

from certkit.contract.checks import check, expect
from certkit.contract.migration import Migration, ServerMigration
from certkit.contract.servers import Servers


@check("2d2870c0-8fae-413c-8e19-d3eea0339227", "migration")
def test_driver_assisted_migration(resources, dut, profile):
    """check_compatibility (five bools) → start → continue until True → get_progress (0-100) →
    complete returns the destination's export locations."""
    migration = Migration(resources, dut)
    source = resources.create_share(profile.protocols[0])
    dest = migration.destination(source)
    migration.compatibility(source, dest)
    migration.migrate(source, dest)
    resources.delete_share(dest)


@check("eb6b2635-2368-4f21-b82a-c1a88ce625fd", "migration")
def test_migration_with_snapshots(resources, dut, profile):
    """A share with a snapshot migrates with snapshot_mappings {source SSI id: destination SSI};
    complete's snapshot_updates are keyed by DESTINATION snapshot instance ids (the manager looks
    them up that way and silently drops any other key)."""
    if not profile.claims("snapshot"):
        pytest.skip("migrating snapshots needs the snapshot feature")
    res = resources
    migration = Migration(res, dut)
    source = res.create_share(profile.protocols[0])
    snap = res.create_snapshot(source)
    dest = migration.destination(source)
    if not migration.compatibility(source, dest)["preserve_snapshots"]:
        pytest.skip("the driver does not preserve snapshots (preserve_snapshots=False): "
                    "the manager migrates such shares only without snapshots")
    dest_snap = migration.destination_snapshot(dest, snap)
    result = migration.migrate(source, dest, [snap], {snap["id"]: dest_snap})
    updates = (result or {}).get("snapshot_updates") or {}
    stray = sorted(set(updates) - {dest_snap["id"]})
    expect(not stray, f"migration_complete().snapshot_updates is keyed by {stray}; the manager "
                      f"reads it by destination snapshot instance id ({dest_snap['id']})")
    dest_snap.update({k: v for k, v in (updates.get(dest_snap["id"]) or {}).items()
                      if k != "export_locations"})
    res.delete_snapshot(dest_snap)
    res.delete_share(dest)


@check("1127ba9c-2e4a-47de-8418-89c2f79833d3", "migration")
def test_migration_cancel(resources, dut, profile):
    """A started migration can be cancelled; the source share is still deletable."""
    migration = Migration(resources, dut)
    source = resources.create_share(profile.protocols[0])
    dest = migration.destination(source)
    migration.start_and_cancel(source, dest)
    resources.delete_share(dest)
    resources.delete_share(source)


@check("df7f248d-9fff-4f63-8ee6-ad7df3b1c4d7", "share_server_migration")
def test_share_server_migration(server_resources, profile):
    """share_server_migration_check_compatibility → start → continue until True →
    get_progress → complete returns share_updates with export locations for every share."""
    res = server_resources
    migration = ServerMigration(res, profile)
    servers = Servers(res)
    source = res.share_server = servers.setup()
    share = res.create_share(profile.protocols[0])
    dest, _ = migration.prepare(share)
    result = migration.migrate(source, dest, [share])
    updates = result.get("share_updates") or {}
    expect(set(updates) == {share["id"]},
           f"share_updates must cover every migrated share; got {sorted(updates)}")
    expect(bool(updates[share["id"]].get("export_locations")),
           "share_server_migration_complete().share_updates[] has no export locations")
    res.share_server = dest
    res.delete_share(share)
    servers.teardown(source)
    servers.teardown(dest)


@check("9f99e39e-f1f4-4b9f-9d27-93e0e192d6c0", "share_server_migration")
def test_share_server_migration_cancel(server_resources, profile):
    """When compatibility promises migration_cancel, a started share-server migration can be
    cancelled and the share is still served (deletable) on the source server."""
    res = server_resources
    migration = ServerMigration(res, profile)
    servers = Servers(res)
    source = res.share_server = servers.setup()
    share = res.create_share(profile.protocols[0])
    dest, compat = migration.prepare(share)
    if not compat["migration_cancel"]:
        pytest.skip("share_server_migration_check_compatibility reports migration_cancel=False")
    migration.start_and_cancel(source, dest, [share])
    res.delete_share(share)
    servers.teardown(dest)
    servers.teardown(source)
