"""Which certkit feature a manila-tempest-plugin test exercises (by module, class and name)."""

from __future__ import annotations

import re
import uuid

# First match wins; matched against the lower-cased test id.
_RULES: tuple[tuple[str, str], ...] = (
    (r"share_group_snapshot|sg_snapshot|group_snapshot", "share_group_snapshots"),
    (r"share_group|sharegroup", "share_groups"),
    (r"replica|replication", "replication_readable"),
    (r"revert", "revert_to_snapshot"),
    (r"mount.*snapshot|snapshot.*mount|snapshot_rules|snapshot.*_rule", "mountable_snapshot"),
    (r"snapshot.*manage|manage.*snapshot", "manage_snapshot"),
    (r"share_server.*migrat|server_migration", "share_server_migration"),
    (r"migrat", "migration"),
    (r"backup", "backup"),
    (r"manage", "manage_share"),
    (r"from_snapshot|snapshot_instances.*share|create_share_from", "create_from_snapshot"),
    (r"snapshot", "snapshot"),
    (r"cephx", "access_cephx"),
    (r"cert(rules|_rules|ificate)", "access_cert"),
    (r"userrules|user_rules|access_user|_user_rule", "access_user"),
    (r"(test_rules|iprules|ip_rules|access_rules|access_rule|_rule)", "access_ip"),
    (r"extend", "extend"),
    (r"shrink", "shrink"),
    (r"network_allocation|subnet", "network_allocation_update"),
    (r"security_service", "security_service_update"),
    (r"share_server|share_network", "share_servers"),
)
_IDEMPOTENT = re.compile(r"\[(?:[^\]]*,)?id-([0-9a-f-]{36})(?:,[^\]]*)?\]")
_REPLICATION = ("replication_readable", "replication_writable", "replication_dr")


def idempotent_id(test_id: str) -> str:
    """The test's tempest idempotent id; a stable uuid5 of the id when it has none (setUpClass)."""
    match = _IDEMPOTENT.search(test_id)
    if match:
        try:
            return str(uuid.UUID(match.group(1)))
        except ValueError:
            pass
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"tempest:{base_name(test_id)}"))


def base_name(test_id: str) -> str:
    """The test id without its [id-...,tags] suffix."""
    return test_id.split("[", 1)[0]


def feature_of(test_id: str, claimed: frozenset[str] = frozenset()) -> str:
    """The feature a tempest test exercises; `share` when none more specific applies.

    Replication tests count for whichever replication type the profile claims.
    """
    name = base_name(test_id).lower()
    for pattern, feature in _RULES:
        if re.search(pattern, name):
            if feature == "replication_readable":
                return next((f for f in _REPLICATION if f in claimed), feature)
            return feature
    return "share"
