"""Driver-assisted share migration and share-server migration."""

from __future__ import annotations

import time

from certkit.contract.checks import ContractViolation, check, expect, expect_schema
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


@check("8d9e0f1a-2b3c-4d4e-9f5a-6b7c8d9e0f18", "migration")
def test_driver_assisted_migration(resources, dut, profile):
    """check_compatibility (five bools) → start → continue until True → get_progress (0-100) →
    complete returns the destination's export locations."""
    res = resources
    source = res.create_share(profile.protocols[0])
    dest = _destination(res, dut, source)
    args = (res.context, source, dest)
    compat = res.driver.migration_check_compatibility(*args, share_server=None,
                                                      destination_share_server=None)
    expect_schema(compat, "migration_compatibility.schema.json", "migration_check_compatibility()")
    expect(compat["compatible"], "migration_check_compatibility says the driver cannot migrate "
                                 "to another pool of its own back end, yet migration is claimed")
    full = (*args, [], {})
    res.driver.migration_start(*full, share_server=None, destination_share_server=None)
    _until_done(lambda: res.driver.migration_continue(*full, share_server=None,
                                                      destination_share_server=None),
                "migration_continue", res.poll_timeout)
    progress = res.driver.migration_get_progress(*full, share_server=None, destination_share_server=None)
    expect_schema(progress, "progress.schema.json", "migration_get_progress()")
    result = res.driver.migration_complete(*full, share_server=None, destination_share_server=None)
    expect_schema(result, "migration_complete.schema.json", "migration_complete()")
    expect(bool((result or {}).get("export_locations")),
           "migration_complete returned no export locations for the destination share")
    res.release(source["id"])  # the source instance is gone; the destination is now the share
    res.delete_share(dest)


@check("9e0f1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a19", "migration")
def test_migration_cancel(resources, dut, profile):
    """A started migration can be cancelled; the source share is still deletable."""
    res = resources
    source = res.create_share(profile.protocols[0])
    dest = _destination(res, dut, source)
    full = (res.context, source, dest, [], {})
    res.driver.migration_start(*full, share_server=None, destination_share_server=None)
    res.driver.migration_cancel(*full, share_server=None, destination_share_server=None)
    res.delete_share(dest)
    res.delete_share(source)


@check("0f1a2b3c-4d5e-4f6a-9b7c-8d9e0f1a2b20", "share_server_migration")
def test_share_server_migration(server_resources, server_dut, profile):
    """share_server_migration_check_compatibility → start → continue until True →
    get_progress → complete returns share_updates with export locations for every share."""
    res = server_resources
    servers = Servers(res)
    source = servers.setup()
    res.share_server = source
    share = res.create_share(profile.protocols[0])
    dest = servers.setup()
    dest_host = f"certkit@{migration_target(profile, True)}"
    network = {"id": res.models.new_id()}
    compat = res.driver.share_server_migration_check_compatibility(
        res.context, source, dest_host, network, network, {"shares_size": share["size"]})
    expect_schema(compat, "server_migration_compatibility.schema.json",
                  "share_server_migration_check_compatibility()")
    expect(compat["compatible"], "share server migration is claimed but reported incompatible")
    full = (res.context, source, dest, [dict(share)], [])
    res.driver.share_server_migration_start(*full)
    _until_done(lambda: res.driver.share_server_migration_continue(*full),
                "share_server_migration_continue", res.poll_timeout)
    progress = res.driver.share_server_migration_get_progress(*full)
    expect_schema(progress, "progress.schema.json", "share_server_migration_get_progress()")
    result = res.driver.share_server_migration_complete(*full, dest["network_info"])
    expect(isinstance(result, dict), f"share_server_migration_complete returned {result!r}")
    updates = result.get("share_updates") or {}
    expect(set(updates) == {share["id"]},
           f"share_updates must cover every migrated share; got {sorted(updates)}")
    expect_schema(updates[share["id"]].get("export_locations"), "export_locations.schema.json",
                  "share_server_migration_complete().share_updates[].export_locations")
    res.share_server = dest
    res.delete_share(share)
    servers.teardown(source)
    servers.teardown(dest)
