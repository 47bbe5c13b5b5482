"""Static audit of driver classes against Manila's installed ShareDriver ABC."""

from certkit.audit.class_audit import ClassAudit, audit_backend, audit_class, audit_failure, audit_rows
from certkit.audit.discover import ImportFailure, in_tree, resolve_target
from certkit.audit.drift import Drift, profile_drift

__all__ = ["ClassAudit", "Drift", "ImportFailure", "audit_backend", "audit_class", "audit_failure",
           "audit_rows", "in_tree", "profile_drift", "resolve_target"]
