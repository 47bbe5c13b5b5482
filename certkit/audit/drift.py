"""Profile drift: what a profile claims against what the driver class implements."""

from __future__ import annotations

from dataclasses import dataclass, field

from certkit.audit.class_audit import NOT_IMPLEMENTED, audit_class
from certkit.contract.catalogue import FEATURES, available_in_installed_manila
from certkit.profile import Profile, import_driver_class


@dataclass
class Drift:
    """errors: claims the code does not back; notes: implemented but not claimed."""

    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def profile_drift(profile: Profile, driver_class: type | None = None) -> Drift:
    """Compare the profile's claims with the static audit of its driver class."""
    cls = driver_class or import_driver_class(profile.driver, profile.path)
    audit = audit_class(cls)
    drift = Drift()
    where = f"{profile.path}: features"
    for finding in audit.signature_findings:
        drift.notes.append(f"{profile.path}: driver: {cls.__name__}.{finding}")
    if audit.dhss_modes is not None:
        for mode in profile.dhss_modes:
            if mode not in audit.dhss_modes:
                drift.errors.append(f"{profile.path}: driver_handles_share_servers: {mode} is not a mode "
                                    f"{cls.__name__} declares ({audit.dhss_modes})")
    for feat in FEATURES:
        mark = audit.features[feat.id]
        claimed = profile.claims(feat.id)
        if claimed and mark == NOT_IMPLEMENTED and available_in_installed_manila(feat):
            methods = " or ".join("+".join(g) for g in feat.method_sets()) or "its required features"
            drift.errors.append(f"{where}: claims {feat.id!r} but {cls.__name__} does not redefine "
                                f"{methods}")
        elif not claimed and mark != NOT_IMPLEMENTED and not feat.derived and feat.methods:
            if feat.dhss is True and True not in profile.dhss_modes:
                continue
            drift.notes.append(f"{where}: {cls.__name__} implements {feat.id!r}, which the profile "
                               "does not claim")
    return drift
