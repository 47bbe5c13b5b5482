"""The audit of one back end (a driver class, resolved through its plugin, layout or library):
call shapes bound against its overrides, features with the evidence that backs each cell, DHSS
modes, legacy interfaces and the stats claims the code does not back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from certkit.audit.backends import Backend
from certkit.audit.discover import ImportFailure
from certkit.audit.evidence import (MethodEvidence, access_literals, attribute_literal,
                                    declared_modes, mentioned_in_package, method_evidence,
                                    stats_literals)
from certkit.audit.signatures import SignatureFinding, class_findings, delegate_findings
from certkit.audit.source import where
from certkit.audit.static_source import CLAIM_KEYS, declared_dhss_modes
from certkit.catalogue import ANY_VALUE, FEATURES, Feature
from certkit.manila_abc import share_driver_abc

IMPLEMENTED, NOT_IMPLEMENTED, UNKNOWN, DRIFT, NO_IMPORT = (
    "implemented", "not-implemented", "unknown", "drift", "cannot-import")
# Capabilities the base class computes from the overrides themselves (no stats literal needed).
_COMPUTED_BY_BASE = frozenset({"snapshot_support", "create_share_from_snapshot_support",
                               "driver_handles_share_servers", "ipv6_support", "ipv4_support",
                               "security_service_update_support", "network_allocation_update_support"})
_ACCESS = {"access_ip": ("type", "ip"), "access_user": ("type", "user"), "access_cert": ("type", "cert"),
           "access_cephx": ("type", "cephx"), "access_ro": ("level", "ro")}
# Capabilities with no feature of their own, shown per row (and compared with the doc).
CAPABILITY_KEYS = ("dedupe", "compression", "thin_provisioning", "mount_point_name_support",
                   "share_server_multiple_subnet_support")
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
    """Everything the static audit found about one back end (one matrix row)."""

    path: str
    imported: bool = True
    import_error: str = ""
    driver: str = ""
    delegate: str | None = None
    config: dict[str, str] = field(default_factory=dict)
    overridden: list[str] = field(default_factory=list)
    signature_findings: list[SignatureFinding] = field(default_factory=list)
    features: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)
    dhss_modes: list[bool] | None = None
    legacy: list[str] = field(default_factory=list)
    stats_claims: dict[str, Any] = field(default_factory=dict)
    claim_findings: list[str] = field(default_factory=list)
    capabilities: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Stats capabilities with no feature of their own (dedupe, thin_provisioning...)."""

    @property
    def findings(self) -> list[str]:
        """Every finding as one line."""
        if not self.imported:
            return [f"cannot import: {self.import_error}"]
        return ([f"{f.severity}: {f}" for f in self.signature_findings]
                + [f"legacy: {x}" for x in self.legacy] + [f"stats: {x}" for x in self.claim_findings])

    def to_json(self) -> dict[str, Any]:
        """JSON form (audit.schema.json)."""
        return {"class": self.path, "driver": self.driver or self.path, "delegate": self.delegate,
                "config": self.config, "imported": self.imported, "import_error": self.import_error,
                "overridden": self.overridden,
                "signature_findings": [f.to_json() for f in self.signature_findings],
                "features": self.features, "evidence": self.evidence, "dhss_modes": self.dhss_modes,
                "legacy": self.legacy,
                "stats_claims": {k: _jsonable(v) for k, v in self.stats_claims.items()},
                "claim_findings": self.claim_findings,
                "capabilities": {k: {"mark": m, "evidence": e} for k, (m, e) in self.capabilities.items()}}


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, (bool, int, float, str, list, type(None))) else repr(value)


def audit_failure(failure: ImportFailure) -> ClassAudit:
    """The audit row of a target that does not import: every feature marked so."""
    return ClassAudit(failure.target, imported=False, import_error=failure.error, driver=failure.target,
                      features={f.id: NO_IMPORT for f in FEATURES},
                      evidence={f.id: failure.error for f in FEATURES})


class _Judge:
    """Feature marks for one back end, each with its evidence."""

    def __init__(self, backend: Backend, drifted: set[str], modes: tuple[bool, ...] | None) -> None:
        self.backend, self.drifted, self.modes = backend, drifted, modes
        self._methods: dict[str, MethodEvidence] = {}
        self.stats = stats_literals(backend, CLAIM_KEYS | set(CAPABILITY_KEYS) | {"qos", "replication_type",
                                                           "security_service_update_support",
                                                           "network_allocation_update_support"})
        self.access = access_literals(backend)

    def method(self, name: str) -> MethodEvidence:
        if name not in self._methods:
            self._methods[name] = method_evidence(self.backend, name)
        return self._methods[name]

    def method_set(self, group: tuple[str, ...]) -> tuple[str, str]:
        """(mark, evidence) for one method set: every method counts, one at least is the
        back end's own code."""
        found = [self.method(m) for m in group]
        if any(e.state == "gated" for e in found):
            gated = next(e for e in found if e.state == "gated")
            return UNKNOWN, f"{gated.name}: {gated.site}"
        missing = [e for e in found if not e.counts]
        if missing:
            e = missing[0]
            what = {"stub": "is a NotImplementedError stub", "absent": "is not defined"}.get(e.state, e.state)
            return NOT_IMPLEMENTED, f"{e.name} {what}" + (f" ({e.site})" if e.site else "")
        if not any(e.state == "override" for e in found):
            return NOT_IMPLEMENTED, "only the base class's defaults"
        return IMPLEMENTED, "; ".join(f"{e.name} {'base default' if e.state == 'default' else ''} {e.site}".replace("  ", " ")
                                      for e in found)

    def methods(self, feat: Feature) -> tuple[str, str]:
        best = (NOT_IMPLEMENTED, "no method of the feature")
        for group in feat.method_sets():
            mark, why = self.method_set(group)
            if mark == IMPLEMENTED:
                return mark, why
            if best[0] == NOT_IMPLEMENTED and (mark == UNKNOWN or best[1] == "no method of the feature"):
                best = (mark, why)
        return best

    def claim(self, key: str, expected: Any) -> tuple[str, str]:
        literal = self.stats.get(key)
        if literal is None:
            if mentioned_in_package(self.backend, key):
                return UNKNOWN, f"{key} is written outside the code path certkit follows: needs a run"
            base = share_driver_abc().__dict__.get("_update_share_stats")
            return NOT_IMPLEMENTED, f"stats never report {key} (base default, {where(base)})"
        if literal.computed:
            return UNKNOWN, f"stats compute {key} ({literal.site}): needs a run"
        value = literal.value
        if isinstance(value, (list, tuple)):
            ok = expected in value
        elif expected is True:
            ok = value is True or str(value).lower() == "true"
        else:
            ok = value == expected
        return (IMPLEMENTED if ok else NOT_IMPLEMENTED), f"stats {key}={value!r} ({literal.site})"

    def attribute(self, name: str) -> tuple[str, str]:
        literal = attribute_literal(self.backend, name)
        if self.backend.delegate is not None and (literal is None or literal.computed):
            literal = attribute_literal(Backend(self.backend.delegate), name) or literal
        stat = self.stats.get(name)
        if (literal is None or literal.computed) and stat is not None:
            literal = stat
        if literal is None:
            if mentioned_in_package(self.backend, name):
                return UNKNOWN, f"{name} is set outside the code path certkit follows: needs a run"
            return NOT_IMPLEMENTED, f"{name} is never set (base default False)"
        if literal.computed:
            return UNKNOWN, f"{name} is computed ({literal.site}): needs a run"
        return (IMPLEMENTED if literal.value else NOT_IMPLEMENTED), f"{name}={literal.value!r} ({literal.site})"

    def judge(self, feat: Feature, marks: dict[str, tuple[str, str]]) -> tuple[str, str]:
        if feat.dhss is True and self.modes is not None and True not in self.modes:
            return NOT_IMPLEMENTED, f"declares driver_handles_share_servers {list(self.modes)} only"
        if feat.method_sets():
            mark, why = self.methods(feat)
        else:
            needed = [marks[r] for r in feat.requires if r in marks]
            bad = next((m for m in needed if m[0] not in (IMPLEMENTED, DRIFT)), None)
            hooks = "; ".join(f"{e.name} {'base default ' if e.state == 'default' else ''}{e.site}"
                              for e in map(self.method, feat.hooks) if e.counts)
            mark, why = (bad[0], f"needs {', '.join(feat.requires)}") if bad else (
                IMPLEMENTED, f"{hooks or 'base class default'}, given "
                + ", ".join(feat.requires))
        if mark != IMPLEMENTED:
            return mark, why
        if feat.id in _ACCESS:
            found = self.access.get(_ACCESS[feat.id])
            if found:
                return IMPLEMENTED, f"literal {_ACCESS[feat.id][0]} check {_ACCESS[feat.id][1]!r} ({found})"
            return UNKNOWN, "no literal access check on update_access's path: needs a run"
        for name in feat.attributes:
            mark, extra = self.attribute(name)
            if mark != IMPLEMENTED:
                return mark, extra
            why += f"; {extra}"
        for claim in feat.capabilities:
            # The base computes some keys from the overrides; `replication_domain` and nested
            # group stats come from configuration or a run.
            if claim.key in _COMPUTED_BY_BASE or claim.expected == ANY_VALUE or "." in claim.key:
                continue
            mark, extra = self.claim(claim.key, claim.expected)
            if mark != IMPLEMENTED:
                return mark, extra
            why += f"; {extra}"
        used = {m for group in feat.method_sets() for m in group} | set(feat.hooks)
        if used & self.drifted:
            return DRIFT, why + "; a real call cannot bind: " + ", ".join(sorted(used & self.drifted))
        return IMPLEMENTED, why


def audit_backend(backend: Backend) -> ClassAudit:
    """Audit one back end against the installed ABC and the manager's real calls."""
    abc = share_driver_abc()
    cls = backend.driver
    abc_methods = {n for n, v in vars(abc).items() if callable(v) and not n.startswith("__")}
    overridden = sorted(n for n in abc_methods
                        if getattr(getattr(cls, n, None), "__func__", getattr(cls, n, None)) is not abc.__dict__[n])
    findings = _with_stub_severity(cls, class_findings(cls, set(overridden)))
    modes = declared_modes(backend, declared_dhss_modes)
    judge = _Judge(backend, set(), modes)
    if backend.delegate is not None:
        for name in overridden:
            for shape in judge.method(name).forwards:
                target = getattr(backend.delegate, shape.method, None)
                if callable(target):
                    findings.extend(delegate_findings(name, [shape], target,
                                                      f"{backend.delegate.__name__}.{shape.method}"))
    judge.drifted = {f.method for f in findings if f.severity == "error"}
    result = ClassAudit(backend.path, driver=backend.driver_path, delegate=backend.delegate_path,
                        config=dict(backend.config), overridden=overridden, signature_findings=findings,
                        dhss_modes=list(modes) if modes is not None else None)
    marks: dict[str, tuple[str, str]] = {}
    for feat in FEATURES:
        marks[feat.id] = judge.judge(feat, marks)
    result.features = {k: v[0] for k, v in marks.items()}
    result.evidence = {k: v[1] for k, v in marks.items()}
    has = {m for m in overridden if judge.method(m).state == "override"}
    if {"allow_access", "deny_access"} & has and "update_access" not in has:
        result.legacy.append("allow_access/deny_access without update_access "
                             "(the manager falls back to them one rule at a time)")
    if "ensure_share" in has and "ensure_shares" not in has:
        result.legacy.append("ensure_share without ensure_shares/get_backend_info "
                             "(every restart re-ensures every share)")
    result.stats_claims = {k: v.value for k, v in judge.stats.items() if not v.computed}
    for key, methods in _CLAIM_NEEDS.items():
        value = result.stats_claims.get(key)
        if value and not all(m in has for m in methods):
            missing = ", ".join(m for m in methods if m not in has)
            result.claim_findings.append(f"reports {key}={value!r} but does not implement {missing}")
    result.capabilities = {key: judge.claim(key, True) for key in CAPABILITY_KEYS}
    return result


def _with_stub_severity(cls: type, findings: list[SignatureFinding]) -> list[SignatureFinding]:
    """A call that cannot bind to a NotImplementedError stub is latent: the stub raises anyway."""
    from certkit.audit.source import is_stub

    out = []
    for f in findings:
        if f.severity == "error" and is_stub(getattr(cls, f.method, None)):
            f = SignatureFinding(f.method, f.kind, "latent", f.detail + " (the override is a "
                                 "NotImplementedError stub)", f.sites)
        out.append(f)
    return out


def audit_class(cls: type) -> ClassAudit:
    """Audit a driver class as configured by default (the first back end it serves)."""
    from certkit.audit.backends import backends_of

    rows = [b for b in backends_of(cls) if isinstance(b, Backend)]
    return audit_backend(rows[0] if rows else Backend(cls))


def audit_rows(found: list[type | ImportFailure]) -> list[ClassAudit]:
    """One row per configurable back end among the found classes (delegation resolved); a
    target that does not import, or a class no manila.conf can select, is a failure row."""
    from certkit.audit.backends import Unresolved, backends_of, is_configurable

    classes = [t for t in found if isinstance(t, type)]
    rows: list[ClassAudit] = []
    for target in found:
        if not isinstance(target, type):
            rows.append(audit_failure(target))
            continue
        if not is_configurable(target, classes):
            if not any(other is not target and issubclass(other, target) for other in classes):
                rows.append(audit_failure(ImportFailure(
                    f"{target.__module__}.{target.__qualname__}",
                    "not a configurable back end (a base class no manila.conf can select)")))
            continue
        for backend in backends_of(target):
            if isinstance(backend, Unresolved):
                rows.append(audit_failure(ImportFailure(backend.target, backend.error)))
            else:
                rows.append(audit_backend(backend))
    return sorted(rows, key=lambda r: r.path)
