"""tempest.conf from the profile: protocols, access rules, capability flags, run_*_tests
switches, the endpoint's microversion range, and multitenancy from the DHSS mode the target's
back end runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from certkit.harness.config import render_conf
from certkit.apitier.specs import replication_type
from certkit.apitier.target import ApiTarget
from certkit.files import atomic_write
from certkit.profile import Profile

# manila-tempest-plugin switch -> the certkit feature that turns it on.
RUN_SWITCHES = {
    "run_extend_tests": "extend", "run_shrink_tests": "shrink", "run_snapshot_tests": "snapshot",
    "run_revert_to_snapshot_tests": "revert_to_snapshot", "run_share_group_tests": "share_groups",
    "run_replication_tests": "replication_*", "run_manage_unmanage_tests": "manage_share",
    "run_manage_unmanage_snapshot_tests": "manage_snapshot",
    "run_mount_snapshot_tests": "mountable_snapshot",
    "run_driver_assisted_backup_tests": "backup",
    "run_network_allocation_update_tests": "network_allocation_update",
    "run_ipv6_tests": "ipv6",
}
# Need a migration destination or a second availability zone: the lab runs one zone, and a
# second back end only for replication.
ALWAYS_OFF = ("run_driver_assisted_migration_tests", "run_host_assisted_migration_tests",
              "run_migration_with_preserve_snapshots_tests", "run_share_server_migration_tests",
              "run_multiple_share_replicas_tests", "run_positive_migration_replica_tests",
              "run_negative_migration_replica_tests",
              "run_create_share_from_snapshot_in_another_pool_or_az_tests",
              "run_share_server_multiple_subnet_tests", "run_encryption_tests")


def _claims(profile: Profile, feature: str) -> bool:
    if feature.endswith("*"):
        return any(f.startswith(feature[:-1]) for f in profile.claimed)
    return profile.claims(feature)


def protocols_with(profile: Profile, access_type: str) -> list[str]:
    """Lower-case protocols that list an access type."""
    return [p.lower() for p, kinds in profile.access_types.items() if access_type in kinds]


def share_options(profile: Profile, target: ApiTarget, microversions: tuple[str, str],
                  storage_protocol: str) -> dict[str, Any]:
    """The [share] group."""
    opts: dict[str, Any] = {
        "catalog_type": "sharev2", "endpoint_type": "publicURL", "region": target.region,
        # DHSS=True: the plugin creates share networks without Neutron (the back end's network
        # plugin, e.g. the lab's StandaloneNetworkPlugin, allocates the addresses).
        "multitenancy_enabled": target.dhss,
        "create_networks_when_multitenancy_enabled": False,
        "enable_protocols": [p.lower() for p in profile.protocols],
        "enable_ip_rules_for_protocols": protocols_with(profile, "ip"),
        "enable_user_rules_for_protocols": protocols_with(profile, "user"),
        "enable_cert_rules_for_protocols": protocols_with(profile, "cert"),
        "enable_cephx_rules_for_protocols": protocols_with(profile, "cephx"),
        "enable_ro_access_level_for_protocols":
            [p.lower() for p in profile.access_types] if "ro" in profile.access_levels else [],
        "capability_storage_protocol": storage_protocol,
        "capability_snapshot_support": profile.claims("snapshot"),
        "capability_create_share_from_snapshot_support": profile.claims("create_from_snapshot"),
        "capability_revert_to_snapshot_support": profile.claims("revert_to_snapshot"),
        "min_api_microversion": microversions[0], "max_api_microversion": microversions[1],
        "default_share_type_name": "default", "backend_names": [target.backend],
        "multi_backend": False, "build_interval": 1, "build_timeout": 120,
        "share_creation_retry_number": 0, "suppress_errors_in_cleanup": False,
        "run_quota_tests": True,
    }
    for switch, feature in RUN_SWITCHES.items():
        opts[switch] = _claims(profile, feature)
    # The replication type the plugin's replication tests ask for (`none` fails their setUpClass).
    opts["backend_replication_type"] = replication_type(profile) or "none"
    for switch in ALWAYS_OFF:
        opts[switch] = False
    return opts


def tempest_conf_text(profile: Profile, target: ApiTarget, microversions: tuple[str, str],
                      storage_protocol: str, log_dir: Path) -> str:
    """The whole tempest.conf."""
    sections: dict[str, dict[str, Any]] = {
        "DEFAULT": {"log_dir": str(log_dir), "log_file": "tempest.log", "use_stderr": False},
        "auth": {"use_dynamic_credentials": True, "admin_username": target.username,
                 "admin_password": target.password, "admin_project_name": target.project_name,
                 "admin_domain_name": target.user_domain, "create_isolated_networks": False},
        "identity": {"uri_v3": target.auth_url, "auth_version": "v3", "region": target.region,
                     "admin_domain_scope": False},
        "identity-feature-enabled": {"api_v2": False, "api_v3": True},
        "service_available": {"manila": True, "cinder": False, "nova": False, "neutron": False,
                              "glance": False, "swift": False},
        "validation": {"run_validation": False},
        "share": share_options(profile, target, microversions, storage_protocol),
    }
    return render_conf(sections, profile.path)


def write_tempest_conf(path: Path, text: str) -> None:
    """0600: it holds the admin password."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text)
