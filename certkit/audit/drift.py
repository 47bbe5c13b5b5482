"""Profile drift: what a profile claims against the static audit of the back end its driver and
config select (a delegating driver is judged through the plugin, layout or library chosen)."""

from __future__ import annotations

from dataclasses import dataclass, field

from certkit.audit.backends import Backend, backend_for_config, backends_of
from certkit.audit.class_audit import NOT_IMPLEMENTED, UNKNOWN, ClassAudit, audit_backend
from certkit.catalogue import FEATURES
from certkit.manila_abc import available_in_installed_manila
from certkit.profile import Profile, import_driver_class


@dataclass
class Drift:
    """errors: claims the code does not back; notes: implemented but not claimed, claims only a
    run can prove, and call shapes that cannot bind."""

    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def profile_backend(profile: Profile, driver_class: type | None = None) -> tuple[Backend | None, str]:
    """The back end a profile's driver and config select, or (None, why not)."""
    cls = driver_class or import_driver_class(profile.driver, profile.path)
    backend = backend_for_config(cls, profile.config)
    if backend is not None:
        return backend, ""
    choices = sorted({k for b in backends_of(cls) if isinstance(b, Backend) for k in b.config})
    options = ", ".join(b.choice for b in backends_of(cls) if isinstance(b, Backend))
    return None, (f"{profile.path}: config: {' / '.join(choices) or 'the back-end option'} selects none "
                  f"of {cls.__name__}'s back ends ({options})")


def profile_drift(profile: Profile, driver_class: type | None = None) -> Drift:
    """Compare the profile's claims with the static audit of its back end."""
    drift = Drift()
    backend, why = profile_backend(profile, driver_class)
    if backend is None:
        drift.errors.append(why)
        return drift
    audit = audit_backend(backend)
    name = backend.path.removeprefix("manila.share.drivers.")
    _signature_notes(profile, audit, name, drift)
    where = f"{profile.path}: features"
    if audit.dhss_modes is not None:
        for mode in profile.dhss_modes:
            if mode not in audit.dhss_modes:
                drift.errors.append(f"{profile.path}: driver_handles_share_servers: {mode} is not a mode "
                                    f"{name} declares ({audit.dhss_modes})")
    for feat in FEATURES:
        mark, evidence = audit.features[feat.id], audit.evidence[feat.id]
        claimed = profile.claims(feat.id)
        if claimed and mark == NOT_IMPLEMENTED and available_in_installed_manila(feat):
            drift.errors.append(f"{where}: claims {feat.id!r} but {name} does not implement it: {evidence}")
        elif claimed and mark == UNKNOWN:
            drift.notes.append(f"{where}: {feat.id!r} cannot be shown from code ({evidence}); "
                               "the run decides")
        elif not claimed and mark not in (NOT_IMPLEMENTED, UNKNOWN) and not feat.derived and feat.methods:
            if feat.dhss is True and True not in profile.dhss_modes:
                continue
            drift.notes.append(f"{where}: {name} implements {feat.id!r}, which the profile does not claim")
    return drift


def _signature_notes(profile: Profile, audit: ClassAudit, name: str, drift: Drift) -> None:
    for finding in audit.signature_findings:
        if finding.severity in ("error", "latent"):
            drift.notes.append(f"{profile.path}: driver: {name}: {finding.severity}: {finding}")
