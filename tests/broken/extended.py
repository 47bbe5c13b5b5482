"""Broken drivers for the extended families: manage, revert, mountable snapshots, replication,
replicated snapshots, share groups, restart, access at volume and concurrency."""

from __future__ import annotations

import uuid

from certkit.manila_env import prepare_manila

prepare_manila()

from manila import exception  # noqa: E402 - imported after prepare_manila()
from manila.tests.share.drivers.dummy import DummyDriver  # noqa: E402 - imported after prepare_manila()


class ManageReturnsNoSize(DummyDriver):
    def manage_existing(self, share, driver_options):
        result = super().manage_existing(share, driver_options)
        del result["size"]
        return result


class ManageSizeAsString(DummyDriver):
    def manage_existing(self, share, driver_options):
        return {**super().manage_existing(share, driver_options), "size": "1"}


class UnmanageDeletesBackendObject(DummyDriver):
    def unmanage(self, share):
        self.private_storage.delete(share["id"])


class ManageSnapshotReturnsList(DummyDriver):
    def manage_existing_snapshot(self, snapshot, driver_options):
        return [super().manage_existing_snapshot(snapshot, driver_options)]


class RevertReturnsWrongStatus(DummyDriver):
    def revert_to_snapshot(self, context, snapshot, share_access_rules, snapshot_access_rules,
                           share_server=None):
        return {"status": "available"}


class RevertNeverCompletes(DummyDriver):
    def revert_to_snapshot(self, context, snapshot, share_access_rules, snapshot_access_rules,
                           share_server=None):
        return {"status": "reverting_to_snapshot"}

    def get_share_status(self, share, share_server=None):
        return {"status": "reverting_to_snapshot"}


class SnapshotWithoutExportLocations(DummyDriver):
    def create_snapshot(self, context, snapshot, share_server=None):
        update = super().create_snapshot(context, snapshot, share_server)
        update.pop("export_locations")
        return update


class SnapshotAccessRaisesBare(DummyDriver):
    def snapshot_update_access(self, context, snapshot, access_rules, add_rules, delete_rules,
                               share_server=None):
        raise KeyError("access_to")


class ReplicaWithoutExportLocations(DummyDriver):
    def create_replica(self, context, replica_list, new_replica, access_rules, replica_snapshots,
                       share_server=None):
        result = super().create_replica(context, replica_list, new_replica, access_rules,
                                        replica_snapshots, share_server)
        del result["export_locations"]
        return result


class ReplicaNeverSyncs(DummyDriver):
    def update_replica_state(self, context, replica_list, replica, access_rules,
                             replica_snapshots, share_server=None):
        return "out_of_sync"


class PromoteLeavesTwoActive(DummyDriver):
    def promote_replica(self, context, replica_list, replica, access_rules, share_server=None,
                        quiesce_wait_time=None):
        return [{"id": r["id"], "replica_state": "active"} for r in replica_list]


class PromoteInventsState(DummyDriver):
    def promote_replica(self, context, replica_list, replica, access_rules, share_server=None,
                        quiesce_wait_time=None):
        return [{"id": replica["id"], "replica_state": "primary"}]


class ReplicatedSnapshotBadStatus(DummyDriver):
    def create_replicated_snapshot(self, context, replica_list, replica_snapshots,
                                   share_server=None):
        return [{"id": s["id"], "status": "done"} for s in replica_snapshots]


class ReplicatedSnapshotUnknownIds(DummyDriver):
    def create_replicated_snapshot(self, context, replica_list, replica_snapshots,
                                   share_server=None):
        return [{"id": str(uuid.uuid4()), "status": "available"} for _ in replica_snapshots]


class GroupReturnsTuple(DummyDriver):
    def create_share_group(self, context, share_group_dict, share_server=None):
        return None, None


class GroupFromSnapshotWithoutExports(DummyDriver):
    def create_share_group_from_share_group_snapshot(self, context, share_group_dict,
                                                     share_group_snapshot_dict, share_server=None):
        update, members = super().create_share_group_from_share_group_snapshot(
            context, share_group_dict, share_group_snapshot_dict, share_server)
        return update, [{"id": m["id"]} for m in members]


class GroupSnapshotUnknownMember(DummyDriver):
    def create_share_group_snapshot(self, context, snap_dict, share_server=None):
        update, members = super().create_share_group_snapshot(context, snap_dict, share_server)
        return update, [{**m, "id": str(uuid.uuid4())} for m in members or []]


class BackendInfoUnstable(DummyDriver):
    def get_backend_info(self, context):
        return {"driver_instance": str(id(self))}


class LostStateAfterRestart(DummyDriver):
    """Keeps what it knows in the instance instead of private storage."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.known: set[str] = set()

    def create_share(self, context, share, share_server=None):
        self.known.add(share["id"])
        return super().create_share(context, share, share_server)

    def ensure_share(self, context, share, share_server=None):
        if share["id"] not in self.known:
            raise exception.ShareResourceNotFound(share_id=share["id"])


class EnsureSharesWrongShape(DummyDriver):
    def get_backend_info(self, context):
        return {"version": "1"}

    def ensure_shares(self, context, shares):
        return [{"id": s["id"], "status": "available"} for s in shares]


class RulesBeyondHundredFail(DummyDriver):
    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        super().update_access(context, share, access_rules, add_rules, delete_rules,
                              update_rules, share_server)
        return {r["access_id"]: {"state": "error"} for r in add_rules[100:]}


class ReappliedRuleRaises(DummyDriver):
    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        for rule in add_rules:
            if self.private_storage.get(rule["access_id"]):
                raise exception.ShareBackendException(msg=f"rule {rule['access_to']} already exists")
            self.private_storage.update(rule["access_id"], {"applied": "1"})
        for rule in delete_rules:
            self.private_storage.delete(rule["access_id"])
        return super().update_access(context, share, access_rules, add_rules, delete_rules,
                                     update_rules, share_server)


class SharedExportPath(DummyDriver):
    def create_share(self, context, share, share_server=None):
        super().create_share(context, share, share_server)
        return [{"path": "10.0.0.10:/exports/current", "is_admin_only": False, "metadata": {}}]


class RevertClaimNotReported(DummyDriver):
    def _update_share_stats(self, data=None):
        super()._update_share_stats(data)
        self._stats["revert_to_snapshot_support"] = False


class ReplicationTypeNotReported(DummyDriver):
    def _get_pools_info(self):
        pools = super()._get_pools_info()
        pools[0].pop("replication_type", None)
        return pools

    def _update_share_stats(self, data=None):
        super()._update_share_stats(data)
        self._stats["replication_type"] = None


BROKEN: dict[type, tuple[str, str, str]] = {
    ManageReturnsNoSize: ("test_unmanage_then_manage_share", "NFS", "failed"),
    ManageSizeAsString: ("test_unmanage_then_manage_share", "CIFS", "failed"),
    UnmanageDeletesBackendObject: ("test_unmanage_then_manage_share", "NFS", "failed"),
    ManageSnapshotReturnsList: ("test_unmanage_then_manage_snapshot", "", "failed"),
    RevertReturnsWrongStatus: ("test_revert_to_snapshot", "", "failed"),
    RevertNeverCompletes: ("test_revert_to_snapshot", "", "failed"),
    SnapshotWithoutExportLocations: ("test_snapshot_export_locations_and_access", "", "failed"),
    SnapshotAccessRaisesBare: ("test_snapshot_export_locations_and_access", "", "failed"),
    ReplicaWithoutExportLocations: ("test_replica_lifecycle", "readable", "failed"),
    ReplicaNeverSyncs: ("test_replica_lifecycle", "readable", "failed"),
    PromoteLeavesTwoActive: ("test_replica_lifecycle", "readable", "failed"),
    PromoteInventsState: ("test_replica_lifecycle", "readable", "failed"),
    ReplicatedSnapshotBadStatus: ("test_replicated_snapshot_lifecycle", "", "failed"),
    ReplicatedSnapshotUnknownIds: ("test_replicated_snapshot_lifecycle", "", "failed"),
    GroupReturnsTuple: ("test_share_group_lifecycle", "", "failed"),
    GroupFromSnapshotWithoutExports: ("test_share_group_snapshot_and_group_from_it", "", "failed"),
    GroupSnapshotUnknownMember: ("test_share_group_snapshot_and_group_from_it", "", "failed"),
    BackendInfoUnstable: ("test_second_instance_ensures_existing_shares", "", "failed"),
    LostStateAfterRestart: ("test_second_instance_ensures_existing_shares", "", "failed"),
    EnsureSharesWrongShape: ("test_second_instance_ensures_existing_shares", "", "failed"),
    RulesBeyondHundredFail: ("test_hundreds_of_rules_in_one_call", "", "failed"),
    ReappliedRuleRaises: ("test_reapplied_rule_is_not_an_error", "NFS-ip", "failed"),
    SharedExportPath: ("test_parallel_create_and_delete", "", "failed"),
    RevertClaimNotReported: ("test_claim_backed_by_capabilities", "revert_to_snapshot", "failed"),
    ReplicationTypeNotReported: ("test_claim_backed_by_capabilities", "replication_readable", "failed"),
}
