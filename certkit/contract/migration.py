"""Driver-assisted share migration and share-server migration.

The manager passes every migration argument positionally (manager.py:1326-2170, 6151-6862), so
these calls do too: a driver's own parameter names are its business. Destinations are recorded
in the ledger before the driver hears of them; answers are checked against their schemas.
"""

from __future__ import annotations

from typing import Any, Callable

from certkit.contract.checks import ContractViolation, expect, expect_schema
from certkit.contract.resources import Resources
from certkit.contract.servers import Servers
from certkit.harness.driver import migration_target
from certkit.harness.models import Model
from certkit.waiting import poll_until


def until_true(step: Callable[[], Any], what: str, timeout: float) -> None:
    """Call a *_continue step until it returns True; it must return a bool every time."""
    def probe() -> Any:
        done = step()
        expect(isinstance(done, bool), f"{what} returned {done!r}; the manager expects a bool")
        return done

    poll_until(probe, bool, timeout=timeout, what=f"{what} to return True", interval=0.05,
               max_interval=0.5, error=ContractViolation)


class Migration:
    """Driver-assisted migration of shares to another pool of the same back end (DHSS=False)."""

    SERVERS = (None, None)
    """share_server, destination_share_server."""

    def __init__(self, res: Resources, dut: Any) -> None:
        self.res = res
        self.dut = dut

    def destination(self, source: Model) -> Model:
        """The destination share instance on the migration target back end (recorded)."""
        res = self.res
        host = (f"certkit@{migration_target(self.dut.profile, self.dut.dhss)}"
                f"#{source['host'].split('#')[-1]}")
        dest = res.models.share(source["share_proto"], source["size"], share_id=source["share_id"],
                                host=host, status="migrating_to")
        res.track_share(dest)
        return dest

    def destination_snapshot(self, dest: Model, snap: Model) -> Model:
        """The destination instance of a source snapshot (recorded)."""
        dest_snap = self.res.models.snapshot(dest, snapshot_id=snap["snapshot_id"],
                                             status="migrating_to")
        self.res.track_snapshot(dest_snap)
        return dest_snap

    def compatibility(self, source: Model, dest: Model) -> dict[str, Any]:
        """migration_check_compatibility: five bools, and `compatible` must be True."""
        res = self.res
        compat = res.driver.migration_check_compatibility(res.context, source, dest,
                                                          *self.SERVERS)
        expect_schema(compat, "migration_compatibility.schema.json",
                      "migration_check_compatibility()")
        expect(compat["compatible"], "migration_check_compatibility says the driver cannot "
                                     "migrate to another pool of its own back end, yet migration "
                                     "is claimed")
        return compat

    def migrate(self, source: Model, dest: Model, snapshots: list[Model] = (),
                mappings: dict[str, Model] | None = None) -> dict[str, Any]:
        """start → continue until True → get_progress → complete; the complete() result."""
        res = self.res
        driver = res.driver
        full = (res.context, source, dest, list(snapshots), dict(mappings or {}), *self.SERVERS)
        driver.migration_start(*full)
        until_true(lambda: driver.migration_continue(*full), "migration_continue",
                   res.poll_timeout)
        progress = driver.migration_get_progress(*full)
        expect_schema(progress, "progress.schema.json", "migration_get_progress()")
        result = driver.migration_complete(*full)
        expect_schema(result, "migration_complete.schema.json", "migration_complete()")
        expect(bool((result or {}).get("export_locations")),
               "migration_complete returned no export locations for the destination share")
        res.release(source["id"])  # the source instance is gone; the destination is the share
        for snap in snapshots:
            res.release(snap["id"])
        return result

    def start_and_cancel(self, source: Model, dest: Model) -> None:
        """migration_start, then migration_cancel."""
        res = self.res
        full = (res.context, source, dest, [], {}, *self.SERVERS)
        res.driver.migration_start(*full)
        res.driver.migration_cancel(*full)


class ServerMigration:
    """Share-server migration to a server on the migration target back end (DHSS=True)."""

    def __init__(self, res: Resources, profile: Any) -> None:
        self.res = res
        self.profile = profile
        self.servers = Servers(res)

    def prepare(self, share: Model) -> tuple[Model, dict[str, Any]]:
        """A destination server and the compatibility answer for moving the current server."""
        res = self.res
        dest = self.servers.setup()
        dest_host = f"certkit@{migration_target(self.profile, True)}"
        network = {"id": res.models.new_id()}
        compat = res.driver.share_server_migration_check_compatibility(
            res.context, res.share_server, dest_host, network, network,
            {"shares_size": share["size"]})
        expect_schema(compat, "server_migration_compatibility.schema.json",
                      "share_server_migration_check_compatibility()")
        expect(compat["compatible"], "share server migration is claimed but reported incompatible")
        return dest, compat

    def migrate(self, source: Model, dest: Model, shares: list[Model]) -> dict[str, Any]:
        """start → continue until True → get_progress → complete; the complete() result."""
        res = self.res
        driver = res.driver
        full = (res.context, source, dest, list(shares), [])
        started = driver.share_server_migration_start(*full)
        expect_schema(started, "server_migration_start.schema.json", "share_server_migration_start()")
        until_true(lambda: driver.share_server_migration_continue(*full),
                   "share_server_migration_continue", res.poll_timeout)
        progress = driver.share_server_migration_get_progress(*full)
        expect_schema(progress, "progress.schema.json", "share_server_migration_get_progress()")
        result = driver.share_server_migration_complete(*full, dest["network_info"])
        expect_schema(result, "server_migration_complete.schema.json",
                      "share_server_migration_complete()")
        return result

    def start_and_cancel(self, source: Model, dest: Model, shares: list[Model]) -> None:
        """share_server_migration_start, then share_server_migration_cancel."""
        res = self.res
        full = (res.context, source, dest, list(shares), [])
        res.driver.share_server_migration_start(*full)
        res.driver.share_server_migration_cancel(*full)
