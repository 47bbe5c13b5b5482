"""Driver-assisted share migration and share-server migration.

The manager passes every migration argument positionally (manager.py:1326-2170, 6151-6862), so
the checks do too: a driver's own parameter names are its business.
"""

from __future__ import annotations

import time

import pytest

from certkit.contract.checks import ContractViolation, check, expect, expect_schema
from certkit.contract.resources import tolerating_not_found
from certkit.contract.servers import Servers
from certkit.harness.driver import migration_target


def _until_done(step, what: str, timeout: float) -> None:
    """Call `step()` until it returns True; it must return a bool every time."""
    deadline = time.monotonic() + timeout
    while True:
        done = step()
        expect(isinstance(done, bool), f"{what} returned {done!r}; the manager expects a bool")
        if done:
            return
        if time.monotonic() > deadline:
            raise ContractViolation(f"{what} never returned True within {timeout:g} s")
        time.sleep(0.05)


def _destination(res, dut, source):
    host = f"certkit@{migration_target(dut.profile, dut.dhss)}#{source['host'].split('#')[-1]}"
    dest = res.models.share(source["share_proto"], source["size"], share_id=source["share_id"],
                            host=host, status="migrating_to")
    res.track_share(dest)
    return dest


def _compatibility(res, source, dest):
    compat = res.driver.migration_check_compatibility(res.context, source, dest, None, None)
    expect_schema(compat, "migration_compatibility.schema.json", "migration_check_compatibility()")
    expect(compat["compatible"], "migration_check_compatibility says the driver cannot migrate "
                                 "to another pool of its own back end, yet migration is claimed")
    return compat


def _migrate(res, full) -> dict:
    """start → continue until True → get_progress → complete; the complete() result."""
    driver, servers = res.driver, (None, None)
    driver.migration_start(*full, *servers)
    _until_done(lambda: driver.migration_continue(*full, *servers), "migration_continue",
                res.poll_timeout)
    progress = driver.migration_get_progress(*full, *servers)
    expect_schema(progress, "progress.schema.json", "migration_get_progress()")
    result = driver.migration_complete(*full, *servers)
    expect_schema(result, "migration_complete.schema.json", "migration_complete()")
    expect(bool((result or {}).get("export_locations")),
           "migration_complete returned no export locations for the destination share")
    return result


@check("2d2870c0-8fae-413c-8e19-d3eea0339227", "migration")
def test_driver_assisted_migration(resources, dut, profile):
    """check_compatibility (five bools) → start → continue until True → get_progress (0-100) →
    complete returns the destination's export locations."""
    res = resources
    source = res.create_share(profile.protocols[0])
    dest = _destination(res, dut, source)
    _compatibility(res, source, dest)
    _migrate(res, (res.context, source, dest, [], {}))
    res.release(source["id"])  # the source instance is gone; the destination is now the share
    res.delete_share(dest)


@check("eb6b2635-2368-4f21-b82a-c1a88ce625fd", "migration")
def test_migration_with_snapshots(resources, dut, profile):
    """A share with a snapshot migrates with snapshot_mappings {source SSI id: destination SSI};
    complete's snapshot_updates are keyed by DESTINATION snapshot instance ids (the manager looks
    them up that way and silently drops any other key)."""
    if not profile.claims("snapshot"):
        pytest.skip("migrating snapshots needs the snapshot feature")
    res = resources
    source = res.create_share(profile.protocols[0])
    snap = res.create_snapshot(source)
    dest = _destination(res, dut, source)
    if not _compatibility(res, source, dest)["preserve_snapshots"]:
        pytest.skip("the driver does not preserve snapshots (preserve_snapshots=False): "
                    "the manager migrates such shares only without snapshots")
    dest_snap = res.models.snapshot(dest, snapshot_id=snap["snapshot_id"], status="migrating_to")
    entry = res.ledger.track("snapshot", dest_snap["id"], dest_snap["name"], tolerating_not_found(
        lambda: res.driver.delete_snapshot(res.context, dest_snap, share_server=None)))
    res.entries.append(entry)
    result = _migrate(res, (res.context, source, dest, [snap], {snap["id"]: dest_snap}))
    updates = (result or {}).get("snapshot_updates") or {}
    stray = sorted(set(updates) - {dest_snap["id"]})
    expect(not stray, f"migration_complete().snapshot_updates is keyed by {stray}; the manager "
                      f"reads it by destination snapshot instance id ({dest_snap['id']})")
    dest_snap.update({k: v for k, v in (updates.get(dest_snap["id"]) or {}).items()
                      if k != "export_locations"})
    res.release(snap["id"])
    res.release(source["id"])
    res.delete_snapshot(dest_snap)
    res.delete_share(dest)


@check("1127ba9c-2e4a-47de-8418-89c2f79833d3", "migration")
def test_migration_cancel(resources, dut, profile):
    """A started migration can be cancelled; the source share is still deletable."""
    res = resources
    source = res.create_share(profile.protocols[0])
    dest = _destination(res, dut, source)
    full = (res.context, source, dest, [], {}, None, None)
    res.driver.migration_start(*full)
    res.driver.migration_cancel(*full)
    res.delete_share(dest)
    res.delete_share(source)


def _server_migration(res, profile, share):
    """A destination server and the compatibility answer for moving `source` there."""
    servers = Servers(res)
    dest = servers.setup()
    dest_host = f"certkit@{migration_target(profile, True)}"
    network = {"id": res.models.new_id()}
    compat = res.driver.share_server_migration_check_compatibility(
        res.context, res.share_server, dest_host, network, network, {"shares_size": share["size"]})
    expect_schema(compat, "server_migration_compatibility.schema.json",
                  "share_server_migration_check_compatibility()")
    expect(compat["compatible"], "share server migration is claimed but reported incompatible")
    return servers, dest, compat


@check("df7f248d-9fff-4f63-8ee6-ad7df3b1c4d7", "share_server_migration")
def test_share_server_migration(server_resources, profile):
    """share_server_migration_check_compatibility → start → continue until True →
    get_progress → complete returns share_updates with export locations for every share."""
    res = server_resources
    servers = Servers(res)
    source = res.share_server = servers.setup()
    share = res.create_share(profile.protocols[0])
    _, dest, _ = _server_migration(res, profile, share)
    full = (res.context, source, dest, [share], [])
    started = res.driver.share_server_migration_start(*full)
    expect_schema(started, "server_migration_start.schema.json", "share_server_migration_start()")
    _until_done(lambda: res.driver.share_server_migration_continue(*full),
                "share_server_migration_continue", res.poll_timeout)
    progress = res.driver.share_server_migration_get_progress(*full)
    expect_schema(progress, "progress.schema.json", "share_server_migration_get_progress()")
    result = res.driver.share_server_migration_complete(*full, dest["network_info"])
    expect_schema(result, "server_migration_complete.schema.json",
                  "share_server_migration_complete()")
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
    servers = Servers(res)
    source = res.share_server = servers.setup()
    share = res.create_share(profile.protocols[0])
    _, dest, compat = _server_migration(res, profile, share)
    if not compat["migration_cancel"]:
        pytest.skip("share_server_migration_check_compatibility reports migration_cancel=False")
    full = (res.context, source, dest, [share], [])
    res.driver.share_server_migration_start(*full)
    res.driver.share_server_migration_cancel(*full)
    res.delete_share(share)
    servers.teardown(dest)
    servers.teardown(source)
