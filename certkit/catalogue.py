"""The feature catalogue: Manila's share back-end features, the ShareDriver methods each needs,
the capabilities it implies in the driver's stats, and the Manila release that introduced it.

Pure data (no Manila import): method names are resolved against the *installed*
`manila.share.driver.ShareDriver` by `certkit.manila_abc`; signatures are never re-typed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

# Manila's major versions and the OpenStack series that shipped them.
RELEASES: dict[int, str] = {
    1: "Liberty", 2: "Mitaka", 3: "Newton", 4: "Ocata", 5: "Pike", 6: "Queens", 7: "Rocky",
    8: "Stein", 9: "Train", 10: "Ussuri", 11: "Victoria", 12: "Wallaby", 13: "Xena",
    14: "Yoga", 15: "Zed", 16: "2023.1 Antelope", 17: "2023.2 Bobcat", 18: "2024.1 Caracal",
    19: "2024.2 Dalmatian", 20: "2025.1 Epoxy", 21: "2025.2 Flamingo", 22: "2026.1 Gazpacho",
    23: "2026.2 Hibiscus",
}


ANY_VALUE = "<any value>"


@dataclass(frozen=True)
class CapabilityClaim:
    """A stats key a feature implies, and the value that backs the claim.

    `expected` True means the value must be truthy (bool True, or the legacy strings
    "True"/"true"); a string means the value must equal it or, for a list, contain it.
    """

    key: str
    expected: bool | str = True
    """True: truthy; ANY_VALUE: any non-empty value; other strings: that value (or in the list)."""

    def satisfied_by(self, value: Any) -> bool:
        """Whether a reported capability value backs this claim."""
        if self.expected == ANY_VALUE:
            return value not in (None, "", [], False)
        if self.expected is True:
            return value is True or (isinstance(value, str) and value.lower() == "true")
        if isinstance(value, (list, tuple)):
            return self.expected in value
        return value == self.expected

    def describe(self) -> str:
        """Human-readable form, e.g. `snapshot_support=True`."""
        if self.expected == ANY_VALUE:
            return f"{self.key} set"
        return f"{self.key}={self.expected!r}" if self.expected is not True else f"{self.key}=True"


@dataclass(frozen=True)
class Feature:
    """One back-end feature of Manila's share-driver feature-support mapping."""

    id: str
    title: str
    since: int
    methods: tuple[str, ...] = ()
    """ShareDriver methods a driver must redefine to implement the feature (all of them)."""
    alternatives: tuple[tuple[str, ...], ...] = ()
    """Other method sets that also implement it (e.g. the legacy allow/deny_access)."""
    capabilities: tuple[CapabilityClaim, ...] = ()
    attributes: tuple[str, ...] = ()
    """Driver instance attributes that must be truthy (e.g. `ipv6_implemented`)."""
    requires: tuple[str, ...] = ()
    """Other features this one depends on."""
    dhss: bool | None = None
    """True: only in DHSS=True mode; None: either mode."""
    derived: bool = False
    """Claimed through the profile's protocols/access keys rather than listed in `features`."""
    hooks: tuple[str, ...] = ()
    """Optional ABC methods a driver may redefine for the feature (the base works without)."""
    notes: str = ""

    @property
    def release(self) -> str:
        """The series that introduced the feature, e.g. `Ocata (4)`."""
        return f"{RELEASES.get(self.since, '?')} ({self.since})"

    def method_sets(self) -> tuple[tuple[str, ...], ...]:
        """Every set of methods that implements the feature, primary first."""
        return ((self.methods,) if self.methods else ()) + self.alternatives


def _caps(*keys: str | tuple[str, str]) -> tuple[CapabilityClaim, ...]:
    return tuple(CapabilityClaim(k) if isinstance(k, str) else CapabilityClaim(*k) for k in keys)


FEATURES: tuple[Feature, ...] = (
    Feature("share", "Create and delete shares", 1, ("create_share", "delete_share")),
    Feature("extend", "Extend a share", 1, ("extend_share",), requires=("share",)),
    Feature("shrink", "Shrink a share", 1, ("shrink_share",), requires=("share",)),
    Feature("manage_share", "Manage and unmanage shares", 1,
            ("manage_existing", "unmanage"),
            alternatives=(("manage_existing_with_server", "unmanage_with_server"),),
            requires=("share",)),
    Feature("snapshot", "Create and delete snapshots", 1, ("create_snapshot", "delete_snapshot"),
            capabilities=_caps("snapshot_support"), requires=("share",)),
    Feature("create_from_snapshot", "Create a share from a snapshot", 1,
            ("create_share_from_snapshot",),
            capabilities=_caps("create_share_from_snapshot_support"), requires=("snapshot",)),
    Feature("manage_snapshot", "Manage and unmanage snapshots", 2,
            ("manage_existing_snapshot", "unmanage_snapshot"),
            alternatives=(("manage_existing_snapshot_with_server",
                           "unmanage_snapshot_with_server"),),
            requires=("snapshot",)),
    Feature("revert_to_snapshot", "Revert a share to its latest snapshot", 4,
            ("revert_to_snapshot",), capabilities=_caps("revert_to_snapshot_support"),
            requires=("snapshot",)),
    Feature("mountable_snapshot", "Mountable snapshots", 4, ("snapshot_update_access",),
            capabilities=_caps("mount_snapshot_support"), requires=("snapshot",)),
    Feature("access_ip", "IP access rules", 1, ("update_access",),
            alternatives=(("allow_access", "deny_access"),), derived=True),
    Feature("access_user", "User access rules", 1, ("update_access",),
            alternatives=(("allow_access", "deny_access"),), derived=True),
    Feature("access_cert", "Certificate access rules", 1, ("update_access",),
            alternatives=(("allow_access", "deny_access"),), derived=True),
    Feature("access_cephx", "CephX access rules", 2, ("update_access",),
            alternatives=(("allow_access", "deny_access"),), derived=True),
    Feature("access_ro", "Read-only access level", 1, ("update_access",),
            alternatives=(("allow_access", "deny_access"),), derived=True),
    Feature("replication_writable", "Writable share replication", 2,
            ("create_replica", "delete_replica", "promote_replica", "update_replica_state"),
            capabilities=(CapabilityClaim("replication_type", "writable"),
                          CapabilityClaim("replication_domain", ANY_VALUE)),
            requires=("share",)),
    Feature("replication_readable", "Readable share replication", 2,
            ("create_replica", "delete_replica", "promote_replica", "update_replica_state"),
            capabilities=(CapabilityClaim("replication_type", "readable"),
                          CapabilityClaim("replication_domain", ANY_VALUE)),
            requires=("share",)),
    Feature("replication_dr", "DR share replication", 2,
            ("create_replica", "delete_replica", "promote_replica", "update_replica_state"),
            capabilities=(CapabilityClaim("replication_type", "dr"),
                          CapabilityClaim("replication_domain", ANY_VALUE)),
            requires=("share",)),
    Feature("replicated_snapshot", "Snapshots of replicated shares", 2,
            ("create_replicated_snapshot", "delete_replicated_snapshot",
             "update_replicated_snapshot"),
            requires=("snapshot",)),
    Feature("share_groups", "Share groups", 4, (), requires=("share",),
            hooks=("create_share_group", "delete_share_group"),
            notes="the base class implements groups as no-ops, so every driver has them"),
    Feature("share_group_snapshots", "Share group snapshots and groups from them", 4, (),
            hooks=("create_share_group_snapshot", "delete_share_group_snapshot",
                   "create_share_group_from_share_group_snapshot"),
            capabilities=(CapabilityClaim("share_group_stats.consistent_snapshot_support", ANY_VALUE),),
            requires=("share_groups", "snapshot", "create_from_snapshot"),
            notes="the base class loops over create_snapshot / create_share_from_snapshot"),
    Feature("migration", "Driver-assisted share migration", 3,
            ("migration_check_compatibility", "migration_start", "migration_continue",
             "migration_complete", "migration_cancel", "migration_get_progress"),
            requires=("share",)),
    Feature("share_servers", "Share servers (driver_handles_share_servers=True)", 1,
            ("_setup_server", "_teardown_server", "get_network_allocations_number"),
            capabilities=_caps("driver_handles_share_servers"), dhss=True, derived=True),
    Feature("manage_share_server", "Manage and unmanage share servers", 8,
            ("manage_server", "unmanage_server", "get_share_server_network_info"),
            requires=("share_servers",), dhss=True),
    Feature("share_server_migration", "Share server migration", 11,
            ("share_server_migration_check_compatibility", "share_server_migration_start",
             "share_server_migration_continue", "share_server_migration_complete",
             "share_server_migration_cancel", "share_server_migration_get_progress"),
            requires=("share_servers",), dhss=True),
    Feature("security_service_update", "Security-service update on in-use share networks", 12,
            ("update_share_server_security_service",
             "check_update_share_server_security_service"),
            capabilities=_caps("security_service_update_support"),
            attributes=("security_service_update_support",),
            requires=("share_servers",), dhss=True),
    Feature("network_allocation_update", "Network-allocation update (add a subnet)", 14,
            ("update_share_server_network_allocations",
             "check_update_share_server_network_allocations"),
            capabilities=_caps("network_allocation_update_support"),
            attributes=("network_allocation_update_support",),
            requires=("share_servers",), dhss=True),
    Feature("backup", "Driver-assisted share backups", 17,
            ("create_backup", "create_backup_continue", "restore_backup",
             "restore_backup_continue", "delete_backup"),
            requires=("share",)),
    Feature("ensure_shares", "Restart: get_backend_info and ensure_shares", 9,
            ("get_backend_info", "ensure_shares"), alternatives=(("ensure_share",),),
            requires=("share",)),
    Feature("qos", "QoS specs via share types", 20, (),
            capabilities=_caps("qos"), requires=("share",),
            notes="reported per pool as `qos`; no method of its own"),
    Feature("ipv6", "IPv6 export locations and access rules", 6,
            ("get_configured_ip_versions",), capabilities=_caps("ipv6_support"),
            attributes=("ipv6_implemented",), requires=("share",)),
)

FEATURES_BY_ID: dict[str, Feature] = {f.id: f for f in FEATURES}

ACCESS_TYPES: tuple[str, ...] = ("ip", "user", "cert", "cephx")
ACCESS_LEVELS: tuple[str, ...] = ("rw", "ro")


def feature(feature_id: str) -> Feature:
    """The catalogue entry for an id; KeyError names the id and the known ones."""
    try:
        return FEATURES_BY_ID[feature_id]
    except KeyError:
        raise KeyError(f"unknown feature {feature_id!r}") from None


def capability_value(stats: Mapping[str, Any], dotted_key: str) -> Any:
    """Look up `a.b` in a stats dict; None when absent."""
    value: Any = stats
    for part in dotted_key.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value
