"""Broken drivers for the v1 lifecycle checks: setup, stats, shares, snapshots, access, resize.

Each class names, in BROKEN, the contract check that must catch it.
"""

from __future__ import annotations

import time

from certkit.manila_env import prepare_manila

prepare_manila()

from manila import exception  # noqa: E402 - imported after prepare_manila()
from manila.tests.share.drivers.dummy import DummyDriver  # noqa: E402 - imported after prepare_manila()


class SetupRaisesBare(DummyDriver):
    def do_setup(self, context):
        raise RuntimeError("cannot reach array")


class WrongDhssMode(DummyDriver):
    @property
    def driver_handles_share_servers(self):
        return True


class PoolMissingReservedKeys(DummyDriver):
    def _get_pools_info(self):
        pools = super()._get_pools_info()
        del pools[0]["reserved_snapshot_percentage"]
        return pools


class FreeAboveTotal(DummyDriver):
    def _get_pools_info(self):
        pools = super()._get_pools_info()
        pools[0]["free_capacity_gb"] = pools[0]["total_capacity_gb"] + 10
        return pools


class SnapshotSupportNotReported(DummyDriver):
    def _update_share_stats(self, data=None):
        super()._update_share_stats(data)
        self._stats["snapshot_support"] = False


class ExportLocationsWrongShape(DummyDriver):
    def create_share(self, context, share, share_server=None):
        return [{"location": loc["path"]} for loc in super().create_share(context, share, share_server)]


class NoExportLocations(DummyDriver):
    def create_share(self, context, share, share_server=None):
        super().create_share(context, share, share_server)
        return None


class DeleteNotIdempotent(DummyDriver):
    def delete_share(self, context, share, share_server=None):
        if not self.private_storage.get(share["id"]):
            raise KeyError(share["id"])
        super().delete_share(context, share, share_server)


class UnsupportedProtocolBareError(DummyDriver):
    def create_share(self, context, share, share_server=None):
        if share["share_proto"] not in ("NFS", "CIFS"):
            raise ValueError(f"bad protocol {share['share_proto']}")
        return super().create_share(context, share, share_server)


class SnapshotExportLocationsWithoutAdminFlag(DummyDriver):
    def create_snapshot(self, context, snapshot, share_server=None):
        update = super().create_snapshot(context, snapshot, share_server)
        for location in update["export_locations"]:
            del location["is_admin_only"]
        return update


class SnapshotDeleteNotIdempotent(DummyDriver):
    def delete_snapshot(self, context, snapshot, share_server=None):
        if not self.private_storage.get(snapshot["id"]):
            raise exception.ShareBackendException(msg="no such snapshot")
        super().delete_snapshot(context, snapshot, share_server)


class ShareFromSnapshotWithoutStatus(DummyDriver):
    def create_share_from_snapshot(self, context, share, snapshot, share_server=None,
                                   parent_share=None):
        result = super().create_share_from_snapshot(context, share, snapshot, share_server,
                                                     parent_share)
        del result["status"]
        return result


class ShareFromSnapshotNeverAvailable(DummyDriver):
    def create_share_from_snapshot(self, context, share, snapshot, share_server=None,
                                   parent_share=None):
        result = super().create_share_from_snapshot(context, share, snapshot, share_server,
                                                     parent_share)
        return {**result, "status": "creating_from_snapshot"}

    def get_share_status(self, share, share_server=None):
        return {"status": "creating_from_snapshot"}


class AccessUpdatesKeyedByMappingId(DummyDriver):
    def update_access(self, context, share, access_rules, add_rules, delete_rules,
                      update_rules, share_server=None):
        super().update_access(context, share, access_rules, add_rules, delete_rules,
                              update_rules, share_server)
        return {rule["id"]: {"state": "active"} for rule in add_rules}


class DenyOfUnknownRuleRaises(DummyDriver):
    def update_access(self, context, share, access_rules, add_rules, delete_rules,
                      update_rules, share_server=None):
        for rule in delete_rules:
            if rule not in access_rules and not self.private_storage.get(rule["access_id"]):
                raise exception.ShareBackendException(msg=f"rule {rule['access_to']} not found")
        for rule in add_rules:
            self.private_storage.update(rule["access_id"], {"applied": "1"})
        for rule in delete_rules:
            self.private_storage.delete(rule["access_id"])
        return super().update_access(context, share, access_rules, add_rules, delete_rules,
                                     update_rules, share_server)


class RecoveryModeUnsupported(DummyDriver):
    def update_access(self, context, share, access_rules, add_rules, delete_rules,
                      update_rules, share_server=None):
        if not add_rules and not delete_rules:
            raise exception.ShareBackendException(msg="nothing to do")
        return super().update_access(context, share, access_rules, add_rules, delete_rules,
                                     update_rules, share_server)


class ReadOnlyRulesRejected(DummyDriver):
    def update_access(self, context, share, access_rules, add_rules, delete_rules,
                      update_rules, share_server=None):
        super().update_access(context, share, access_rules, add_rules, delete_rules,
                              update_rules, share_server)
        return {r["access_id"]: {"state": "error"} for r in add_rules if r["access_level"] == "ro"}


class AcceptsAnyAccessType(DummyDriver):
    def update_access(self, context, share, access_rules, add_rules, delete_rules,
                      update_rules, share_server=None):
        return None


class ExtendRaisesBare(DummyDriver):
    def extend_share(self, share, new_size, share_server=None):
        raise TypeError("extend_share() missing context")


class ShrinkNotImplemented(DummyDriver):
    def shrink_share(self, share, new_size, share_server=None):
        raise NotImplementedError()


class CreateShareHangs(DummyDriver):
    def create_share(self, context, share, share_server=None):
        time.sleep(30)
        return super().create_share(context, share, share_server)


class DeleteShareFails(DummyDriver):
    def delete_share(self, context, share, share_server=None):
        raise exception.ShareBackendException(msg="array is read-only")


# broken class -> (check function, variant or "", expected outcome)
BROKEN: dict[type, tuple[str, str, str]] = {
    SetupRaisesBare: ("test_do_setup_and_check_for_setup_error", "", "failed"),
    WrongDhssMode: ("test_driver_handles_share_servers_matches_config", "", "failed"),
    PoolMissingReservedKeys: ("test_stats_match_schema", "", "failed"),
    FreeAboveTotal: ("test_free_capacity_not_above_total", "", "failed"),
    SnapshotSupportNotReported: ("test_claim_backed_by_capabilities", "snapshot", "failed"),
    ExportLocationsWrongShape: ("test_create_and_delete_share", "NFS", "failed"),
    NoExportLocations: ("test_create_and_delete_share", "CIFS", "failed"),
    DeleteNotIdempotent: ("test_delete_share_twice_is_not_an_error", "NFS", "failed"),
    UnsupportedProtocolBareError: ("test_unsupported_protocol_is_refused_with_manila_exception", "", "failed"),
    SnapshotExportLocationsWithoutAdminFlag: ("test_create_and_delete_snapshot", "", "failed"),
    SnapshotDeleteNotIdempotent: ("test_delete_snapshot_twice_is_not_an_error", "", "failed"),
    ShareFromSnapshotWithoutStatus: ("test_create_share_from_snapshot", "NFS", "failed"),
    ShareFromSnapshotNeverAvailable: ("test_create_share_from_snapshot", "NFS", "failed"),
    AccessUpdatesKeyedByMappingId: ("test_add_and_delete_rule", "NFS-ip", "failed"),
    DenyOfUnknownRuleRaises: ("test_delete_never_applied_rule", "NFS-ip", "failed"),
    RecoveryModeUnsupported: ("test_recovery_mode_sync", "CIFS-user", "failed"),
    ReadOnlyRulesRejected: ("test_read_only_rule", "NFS-ip", "failed"),
    AcceptsAnyAccessType: ("test_unsupported_access_type_is_refused", "NFS", "failed"),
    ExtendRaisesBare: ("test_extend_share", "", "failed"),
    ShrinkNotImplemented: ("test_shrink_share", "", "failed"),
    CreateShareHangs: ("test_create_and_delete_share", "NFS", "error"),
}


class JournalingDriver(DummyDriver):
    """Appends every create/delete to the file named by $CERTKIT_TEST_JOURNAL (subprocess tests)."""

    def _log(self, line: str) -> None:
        import os

        with open(os.environ["CERTKIT_TEST_JOURNAL"], "a", encoding="utf-8") as journal:
            journal.write(line + "\n")

    def create_share(self, context, share, share_server=None):
        self._log(f"create_share {share['id']}")
        return super().create_share(context, share, share_server)

    def delete_share(self, context, share, share_server=None):
        self._log(f"delete_share {share['id']}")
        return super().delete_share(context, share, share_server)

    def create_snapshot(self, context, snapshot, share_server=None):
        self._log(f"create_snapshot {snapshot['id']}")
        time.sleep(60)  # the test interrupts the run here
        return super().create_snapshot(context, snapshot, share_server)

    def delete_snapshot(self, context, snapshot, share_server=None):
        self._log(f"delete_snapshot {snapshot['id']}")
        return super().delete_snapshot(context, snapshot, share_server)


class LeaksSecretInErrors(DummyDriver):
    """Puts the back end's password into an exception message (certkit must redact it)."""

    def create_share(self, context, share, share_server=None):
        import os

        raise exception.ShareBackendException(
            msg=f"login as admin with password {os.environ['CERTKIT_TEST_SECRET']} failed")


class VendorStatsKey(DummyDriver):
    """Not broken: reports an unknown stats key, which must be a warning, not a failure."""

    def _update_share_stats(self, data=None):
        super()._update_share_stats(data)
        self._stats["acme_turbo_mode"] = True
