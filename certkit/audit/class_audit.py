"""The audit of one driver class: overridden ABC methods, signature drift, inferred features,
DHSS modes, legacy interfaces and stats claims the code does not back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from certkit.audit.discover import ImportFailure, class_path
from certkit.audit.signatures import SignatureFinding, class_findings
from certkit.audit.static_source import declared_dhss_modes, hard_coded_stats
from certkit.contract.catalogue import FEATURES, Feature, implements, redefined_methods, share_driver_abc

IMPLEMENTED, NOT_IMPLEMENTED, DRIFT, NO_IMPORT = "implemented", "not-implemented", "drift", "cannot-import"

# Stats claims that need methods (capabilities-notes.md, "Semantic checks").
_CLAIM_NEEDS = {
    "snapshot_support": ("create_snapshot", "delete_snapshot"),
    "create_share_from_snapshot_support": ("create_share_from_snapshot",),
    "revert_to_snapshot_support": ("revert_to_snapshot",),
    "mount_snapshot_support": ("snapshot_update_access",),
    "replication_type": ("create_replica", "delete_replica", "promote_replica", "update_replica_state"),
}


@dataclass
class ClassAudit:
    """Everything the static audit found about one target."""

    path: str
    imported: bool = True
    import_error: str = ""
    overridden: list[str] = field(default_factory=list)
    signature_findings: list[SignatureFinding] = field(default_factory=list)
    features: dict[str, str] = field(default_factory=dict)
    dhss_modes: list[bool] | None = None
    legacy: list[str] = field(default_factory=list)
    stats_claims: dict[str, Any] = field(default_factory=dict)
    claim_findings: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[str]:
        """Every finding as one line."""
        if not self.imported:
            return [f"cannot import: {self.import_error}"]
        return ([f"signature: {f}" for f in self.signature_findings] + [f"legacy: {x}" for x in self.legacy]
                + [f"stats: {x}" for x in self.claim_findings])

    def to_json(self) -> dict[str, Any]:
        """JSON form (audit.schema.json)."""
        return {"class": self.path, "imported": self.imported, "import_error": self.import_error,
                "overridden": self.overridden,
                "signature_findings": [{"method": f.method, "kind": f.kind, "severity": f.severity,
                                        "detail": f.detail}
                                       for f in self.signature_findings],
                "features": self.features, "dhss_modes": self.dhss_modes, "legacy": self.legacy,
                "stats_claims": {k: _jsonable(v) for k, v in self.stats_claims.items()},
                "claim_findings": self.claim_findings}


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, (bool, int, float, str, list, type(None))) else repr(value)


def audit_failure(failure: ImportFailure) -> ClassAudit:
    """The audit row of a target that does not import: every feature marked so."""
    return ClassAudit(failure.target, imported=False, import_error=failure.error,
                      features={f.id: NO_IMPORT for f in FEATURES})


def _feature_mark(cls: type, feat: Feature, drifted: set[str], modes: tuple[bool, ...] | None) -> str:
    if feat.dhss is True and modes is not None and True not in modes:
        return NOT_IMPLEMENTED
    if not implements(cls, feat):
        return NOT_IMPLEMENTED
    used = {m for group in feat.method_sets() for m in group} | set(feat.hooks)
    return DRIFT if used & drifted else IMPLEMENTED


def audit_class(cls: type) -> ClassAudit:
    """Audit one ShareDriver subclass against the installed ABC."""
    abc = share_driver_abc()
    abc_methods = {n for n, v in vars(abc).items() if callable(v) and not n.startswith("__")}
    overridden = sorted(redefined_methods(cls, abc_methods))
    sig = class_findings(cls, set(overridden))
    drifted = {f.method for f in sig if f.severity == "error"}
    modes = declared_dhss_modes(cls)
    result = ClassAudit(class_path(cls), overridden=overridden, signature_findings=sig,
                        dhss_modes=list(modes) if modes is not None else None)
    result.features = {f.id: _feature_mark(cls, f, drifted, modes) for f in FEATURES}
    has = set(overridden)
    if {"allow_access", "deny_access"} & has and "update_access" not in has:
        result.legacy.append("allow_access/deny_access without update_access "
                             "(the manager falls back to them one rule at a time)")
    if "ensure_share" in has and "ensure_shares" not in has:
        result.legacy.append("ensure_share without ensure_shares/get_backend_info "
                             "(every restart re-ensures every share)")
    result.stats_claims = hard_coded_stats(cls)
    for key, methods in _CLAIM_NEEDS.items():
        value = result.stats_claims.get(key)
        if value and not all(m in has for m in methods):
            missing = ", ".join(m for m in methods if m not in has)
            result.claim_findings.append(f"reports {key}={value!r} but does not redefine {missing}")
    return result
