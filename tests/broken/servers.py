"""Broken drivers for share servers, migration, share-server migration and backups."""

from __future__ import annotations

from certkit.manila_env import prepare_manila

prepare_manila()

from manila import exception  # noqa: E402 - imported after prepare_manila()
from manila.tests.share.drivers.dummy import DummyDriver  # noqa: E402 - imported after prepare_manila()


class ServerDetailsNotStrings(DummyDriver):
    def _setup_server(self, network_info, metadata=None):
        return {**super()._setup_server(network_info, metadata), "ports": [1, 2]}


class TeardownWithoutSecurityServices(DummyDriver):
    leaves_leaks = True  # its servers cannot be torn down: the report must list them

    def _teardown_server(self, server_details):
        pass


class AllocationCountAsString(DummyDriver):
    def get_network_allocations_number(self):
        return "2"


class ChooseInventsServer(DummyDriver):
    def choose_share_server_compatible_with_share(self, context, share_servers, share,
                                                  snapshot=None, share_group=None,
                                                  encryption_key_ref=None):
        return {"id": "some-other-server"}


class NetworkInfoNotIps(DummyDriver):
    def get_share_server_network_info(self, context, share_server, identifier, driver_options):
        return ["server-1.example"]


class ManageServerReturnsDetailsOnly(DummyDriver):
    def manage_server(self, context, share_server, identifier, driver_options):
        return super().manage_server(context, share_server, identifier, driver_options)[1]


class SecurityServiceCheckNotBool(DummyDriver):
    def check_update_share_server_security_service(self, *args, **kwargs):
        return "yes"


class AllocationUpdateBadExports(DummyDriver):
    def update_share_server_network_allocations(self, context, share_server,
                                                current_network_allocations,
                                                new_network_allocations, security_services,
                                                shares, snapshots):
        result = super().update_share_server_network_allocations(
            context, share_server, current_network_allocations, new_network_allocations,
            security_services, shares, snapshots)
        result["share_updates"] = {s["id"]: [42] for s in shares}
        return result


class MigrationCompatibilityIncomplete(DummyDriver):
    def migration_check_compatibility(self, context, source_share, destination_share,
                                      share_server=None, destination_share_server=None):
        result = super().migration_check_compatibility(
            context, source_share, destination_share, share_server, destination_share_server)
        del result["preserve_snapshots"]
        return result


class MigrationContinueReturnsPercent(DummyDriver):
    def migration_continue(self, *args, **kwargs):
        super().migration_continue(*args, **kwargs)
        return self.migration_progress[args[1]["id"]]


class MigrationProgressOutOfRange(DummyDriver):
    def migration_get_progress(self, *args, **kwargs):
        return {"total_progress": 150}


class MigrationCompleteWithoutExports(DummyDriver):
    def migration_complete(self, *args, **kwargs):
        result = super().migration_complete(*args, **kwargs)
        return {"snapshot_updates": result["snapshot_updates"]}


class MigrationCancelRaisesBare(DummyDriver):
    def migration_cancel(self, *args, **kwargs):
        raise RuntimeError("cannot cancel: copy in progress")


class ServerMigrationForgetsShares(DummyDriver):
    def share_server_migration_complete(self, *args, **kwargs):
        result = super().share_server_migration_complete(*args, **kwargs)
        return {**result, "share_updates": {}}


class BackupProgressAsInt(DummyDriver):
    def create_backup_continue(self, context, share_instance, backup, share_server=None):
        return {"total_progress": 100}


class BackupNeverCompletes(DummyDriver):
    def create_backup_continue(self, context, share_instance, backup, share_server=None):
        return {"total_progress": "50"}


class RestoreRaisesBare(DummyDriver):
    def restore_backup(self, context, backup, share_instance, share_server=None):
        raise RuntimeError("restore target busy")


class SecurityServiceUpdateNotAdvertised(DummyDriver):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.security_service_update_support = False


# -- the share-server and migration checks of d938b42 (call shapes of the share manager) --------
class TeardownTwiceRaises(DummyDriver):
    """The manager tears a server down again after a half-failed deletion."""

    def _teardown_server(self, server_details, security_services=None):
        gone = self.__dict__.setdefault("_gone", set())
        if server_details["server_id"] in gone:
            raise exception.ShareBackendException(msg="share server is already gone")
        gone.add(server_details["server_id"])


class AdminAllocationCountNegative(DummyDriver):
    def get_admin_network_allocations_number(self):
        return -1


class ChooseWithoutEncryptionKeyRef(DummyDriver):
    """Manila >= 2025.2 passes encryption_key_ref= to the placement call."""

    def choose_share_server_compatible_with_share(self, context, share_servers, share,
                                                  snapshot=None, share_group=None):
        return share_servers[0] if share_servers else None


class UnmanageServerKeywordOnly(DummyDriver):
    """The manager passes security_services positionally."""

    def unmanage_server(self, server_details, *, security_services=None):
        return super().unmanage_server(server_details, security_services)


class NetworkInfoTooFewIps(DummyDriver):
    def get_share_server_network_info(self, context, share_server, identifier, driver_options):
        return super().get_share_server_network_info(context, share_server, identifier,
                                                     driver_options)[:1]


class ManageWithServerSizeAsString(DummyDriver):
    def manage_existing_with_server(self, share, driver_options, share_server=None):
        return {**super().manage_existing_with_server(share, driver_options, share_server),
                "size": "1"}


class ManageSnapshotWithServerReturnsList(DummyDriver):
    def manage_existing_snapshot_with_server(self, snapshot, driver_options, share_server=None):
        return [super().manage_existing_snapshot_with_server(snapshot, driver_options,
                                                             share_server)]


class SecurityServiceReplaceRefused(DummyDriver):
    """Adding works; replacing (current_security_service=) is refused."""

    def check_update_share_server_security_service(self, *args, current_security_service=None,
                                                   **kwargs):
        return current_security_service is None


class SecurityServiceUpdateForUnknownShare(DummyDriver):
    def update_share_server_security_service(self, *args, **kwargs):
        super().update_share_server_security_service(*args, **kwargs)
        return {"not-a-share-of-this-server": {}}


class SecurityServiceUpdateNotADict(DummyDriver):
    def update_share_server_security_service(self, *args, **kwargs):
        super().update_share_server_security_service(*args, **kwargs)
        return ["done"]


class AllocationCheckNotBool(DummyDriver):
    def check_update_share_server_network_allocations(self, *args, **kwargs):
        return "yes"


class AllocationUpdateForUnknownShare(DummyDriver):
    def update_share_server_network_allocations(self, *args, **kwargs):
        result = super().update_share_server_network_allocations(*args, **kwargs)
        result["share_updates"] = {"not-a-share-of-this-server": []}
        return result


class MigrationStartKeywordOnlyServers(DummyDriver):
    """The manager passes share_server and destination_share_server positionally."""

    def migration_start(self, context, source_share, destination_share, source_snapshots,
                        snapshot_mappings, *, share_server=None, destination_share_server=None):
        return super().migration_start(context, source_share, destination_share,
                                       source_snapshots, snapshot_mappings, share_server,
                                       destination_share_server)


class MigrationSnapshotUpdatesBySourceId(DummyDriver):
    """snapshot_updates keyed by the SOURCE snapshot instance: the manager drops them."""

    def migration_complete(self, context, source_share, destination_share, source_snapshots,
                           snapshot_mappings, share_server=None, destination_share_server=None):
        result = super().migration_complete(context, source_share, destination_share,
                                            source_snapshots, snapshot_mappings, share_server,
                                            destination_share_server)
        by_dest = result["snapshot_updates"]
        result["snapshot_updates"] = {src: by_dest[dest["id"]]
                                      for src, dest in snapshot_mappings.items()}
        return result


class ServerMigrationStartReturnsList(DummyDriver):
    def share_server_migration_start(self, *args, **kwargs):
        super().share_server_migration_start(*args, **kwargs)
        return ["started"]


class ServerMigrationCompleteWithoutExports(DummyDriver):
    def share_server_migration_complete(self, *args, **kwargs):
        result = super().share_server_migration_complete(*args, **kwargs)
        for update in result["share_updates"].values():
            update.pop("export_locations")
        return result


class ServerMigrationCancelRaisesBare(DummyDriver):
    def share_server_migration_cancel(self, *args, **kwargs):
        raise RuntimeError("cannot cancel: copy in progress")


BROKEN: dict[type, tuple[str, str, str]] = {
    ServerDetailsNotStrings: ("test_setup_and_teardown_server", "", "failed"),
    TeardownWithoutSecurityServices: ("test_setup_and_teardown_server", "", "failed"),
    AllocationCountAsString: ("test_setup_and_teardown_server", "", "failed"),
    ChooseInventsServer: ("test_share_on_share_server", "NFS", "failed"),
    NetworkInfoNotIps: ("test_unmanage_and_manage_server", "", "failed"),
    ManageServerReturnsDetailsOnly: ("test_unmanage_and_manage_server", "", "failed"),
    SecurityServiceCheckNotBool: ("test_security_service_update", "NFS", "failed"),
    AllocationUpdateBadExports: ("test_network_allocation_update", "CIFS", "failed"),
    MigrationCompatibilityIncomplete: ("test_driver_assisted_migration", "", "failed"),
    MigrationContinueReturnsPercent: ("test_driver_assisted_migration", "", "failed"),
    MigrationProgressOutOfRange: ("test_driver_assisted_migration", "", "failed"),
    MigrationCompleteWithoutExports: ("test_driver_assisted_migration", "", "failed"),
    MigrationCancelRaisesBare: ("test_migration_cancel", "", "failed"),
    ServerMigrationForgetsShares: ("test_share_server_migration", "", "failed"),
    BackupProgressAsInt: ("test_backup_create_restore_delete", "", "failed"),
    BackupNeverCompletes: ("test_backup_create_restore_delete", "", "failed"),
    RestoreRaisesBare: ("test_backup_create_restore_delete", "", "failed"),
    SecurityServiceUpdateNotAdvertised: ("test_claim_backed_by_capabilities", "security_service_update", "failed"),
    TeardownTwiceRaises: ("test_teardown_server_twice_is_not_an_error", "", "failed"),
    AdminAllocationCountNegative: ("test_setup_and_teardown_server", "", "failed"),
    ChooseWithoutEncryptionKeyRef: ("test_share_on_share_server", "NFS", "failed"),
    UnmanageServerKeywordOnly: ("test_unmanage_and_manage_server", "", "failed"),
    NetworkInfoTooFewIps: ("test_unmanage_and_manage_server", "", "failed"),
    ManageWithServerSizeAsString: ("test_unmanage_then_manage_share_with_server", "NFS", "failed"),
    ManageSnapshotWithServerReturnsList: ("test_unmanage_then_manage_snapshot_with_server", "",
                                          "failed"),
    SecurityServiceReplaceRefused: ("test_security_service_update", "NFS", "failed"),
    SecurityServiceUpdateForUnknownShare: ("test_security_service_update", "NFS", "failed"),
    SecurityServiceUpdateNotADict: ("test_security_service_update", "NFS", "failed"),
    AllocationCheckNotBool: ("test_network_allocation_update", "NFS", "failed"),
    AllocationUpdateForUnknownShare: ("test_network_allocation_update", "NFS", "failed"),
    MigrationStartKeywordOnlyServers: ("test_driver_assisted_migration", "", "failed"),
    MigrationSnapshotUpdatesBySourceId: ("test_migration_with_snapshots", "", "failed"),
    ServerMigrationStartReturnsList: ("test_share_server_migration", "", "failed"),
    ServerMigrationCompleteWithoutExports: ("test_share_server_migration", "", "failed"),
    ServerMigrationCancelRaisesBare: ("test_share_server_migration_cancel", "", "failed"),
}
