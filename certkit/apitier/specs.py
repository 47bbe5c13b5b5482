"""What a profile means to a Manila deployment: the back end's manila.conf group and
share_backend_name (exactly as the in-process harness builds them), and the share-type extra
specs its claims ask the scheduler for."""

from __future__ import annotations

from typing import Any

from certkit.catalogue import ANY_VALUE, FEATURES_BY_ID
from certkit.harness.driver import config_group, config_sections, migration_target
from certkit.profile import Profile


def backend_options(profile: Profile, dhss: bool | None = None) -> tuple[str, dict[str, Any]]:
    """(manila.conf group, options) of the driver: the harness's group for a DHSS mode the
    profile lists (default: its first)."""
    group = config_group(profile, profile.dhss if dhss is None else dhss)
    return group, dict(config_sections(profile)[group])


def replication_type(profile: Profile) -> str | None:
    """The replication type the profile claims (readable, writable or dr), if any."""
    return next((kind for kind in ("readable", "writable", "dr")
                 if profile.claims(f"replication_{kind}")), None)


def replica_backend_options(profile: Profile, dhss: bool | None = None
                            ) -> tuple[str, dict[str, Any]] | None:
    """(group, options) of a second back end of the same driver, in the same replication
    domain, when the profile claims replication: Manila places a replica on another back end
    (its scheduler skips hosts that already hold one). It is the harness's migration-target group."""
    if replication_type(profile) is None:
        return None
    group = migration_target(profile, profile.dhss if dhss is None else dhss)
    return group, dict(config_sections(profile)[group])


def backend_name(profile: Profile, dhss: bool | None = None) -> str:
    """The share_backend_name the share service reports."""
    return str(backend_options(profile, dhss)[1]["share_backend_name"])


def default_type_specs(profile: Profile, dhss: bool | None = None) -> dict[str, str]:
    """Extra specs of the `default` share type: back end, DHSS (the mode the back end runs,
    default the profile's first), and each claimed boolean capability."""
    mode = profile.dhss if dhss is None else dhss
    specs = {"driver_handles_share_servers": str(mode),
             "share_backend_name": backend_name(profile, mode)}
    for fid in ("snapshot", "create_from_snapshot", "revert_to_snapshot", "mountable_snapshot"):
        if profile.claims(fid):
            for claim in FEATURES_BY_ID[fid].capabilities:
                if claim.expected is True:
                    specs[claim.key] = "True"
    return specs


def claimed_capability_specs(profile: Profile) -> dict[str, tuple[str, str]]:
    """{feature: (extra spec, value)} for every claimed feature whose capability a share type can ask for."""
    out = {}
    for fid in sorted(profile.claimed):
        feat = FEATURES_BY_ID.get(fid)
        if feat is None:
            continue
        for claim in feat.capabilities:
            if "." in claim.key or claim.key == "driver_handles_share_servers":
                continue
            if claim.expected is True:
                out[fid] = (claim.key, "True")
            elif claim.expected != ANY_VALUE:
                out[fid] = (claim.key, str(claim.expected))
    return out
