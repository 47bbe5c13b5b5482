"""The certification report: assembled from a run (verdict rules in verdict.py) and written as JSON
(report.schema.json), JUnit XML and the terminal feature table."""

from __future__ import annotations

import json
import os
import platform
from collections import Counter
from dataclasses import asdict
from typing import Any, Iterable

from certkit import __version__
from certkit.catalogue import FEATURES
from certkit.check_catalogue import check_docs_url
from certkit.errors import CertkitError
from certkit.files import atomic_write
from certkit.manila_env import manila_version
from certkit.redaction import redact_tree
from certkit.schema_check import schema_errors
from certkit.session import CertificationRun, CheckResult
from certkit.verdict import RunFacts, feature_status, judge, scope_of

OUTCOMES = ("passed", "failed", "skipped", "error")


def build_report(run: CertificationRun, *, started_at: str, duration: float,
                 suites: Iterable[str], drift: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The report of a finished (or stopped, or interrupted) run, with its verdict; every string
    in it has the profile's secrets redacted."""
    by_feature: dict[str, list[CheckResult]] = {}
    for result in run.results:
        by_feature.setdefault(result.feature, []).append(result)
    features = {}
    for feat in FEATURES:
        claimed = run.profile.claims(feat.id)
        results = by_feature.get(feat.id, [])
        status, reason = feature_status(claimed, results)
        entry = {"claimed": claimed, "status": status, "title": feat.title, "since": feat.release,
                 "required_checks": sum(r.level == "required" for r in results),
                 "passed": sum(r.outcome == "passed" for r in results)}
        if reason:
            entry["reason"] = reason
        features[feat.id] = entry
    counts = Counter(r.outcome for r in run.results)
    leaks = [asdict(leak) for leak in run.ledger.leaks]
    drift = drift or {"errors": [], "notes": []}
    suites = list(suites)
    scope = scope_of(suites)
    verdict = judge(RunFacts(
        results=run.results, features=features, leaks=len(leaks), false_claims=drift["errors"],
        collection_errors=run.collection_errors, internal_errors=run.internal_errors,
        keyword=run.keyword, deselected=run.deselected, not_run=run.not_run,
        pytest_exit=run.pytest_exit, stop_reason=run.stop_reason, interrupted=run.interrupted,
        cleanup_interrupted=run.cleanup_interrupted, scope=scope))
    driver_seconds = run.times.total
    report = {
        "format": 1, "certkit_version": __version__,
        "profile": {"name": run.profile.name, "path": run.profile.path,
                    "vendor": run.profile.vendor, "dhss_modes": list(run.profile.dhss_modes)},
        "driver": run.driver_class.__module__ + "." + run.driver_class.__qualname__
        if run.driver_class else run.profile.driver,
        "manila_version": manila_version(), "python_version": platform.python_version(),
        "run_id": run.run_id, "started_at": started_at, "duration": round(duration, 3),
        "suites": suites, "interrupted": run.interrupted,
        "selection": {"suites": suites, "keyword": run.keyword},
        "checks": [_check_entry(r) for r in run.results],
        "features": features,
        "summary": {"total": len(run.results), **{o: counts.get(o, 0) for o in OUTCOMES}},
        "verdict": verdict.verdict,
        "scope": list(scope) if scope is not None else None,
        "reasons": list(verdict.reasons),
        "drift": drift,
        "warnings": list(run.warnings),
        "leaks": leaks,
        "timing": {"total_seconds": round(duration, 3), "driver_seconds": round(driver_seconds, 3),
                   "harness_seconds": round(max(duration - driver_seconds, 0.0), 3),
                   "driver_calls": sum(run.times.calls.values())},
    }
    if run.scale is not None:
        report["scale"] = run.scale
    if run.explore is not None:
        report["explore"] = run.explore
    return redact_tree(report, run.profile.secrets)


def _check_entry(result: CheckResult) -> dict[str, Any]:
    entry = asdict(result)
    if not entry["variant"]:
        del entry["variant"]
    entry["docs"] = check_docs_url(result.id, result.feature)
    return entry


def check_name(check: dict[str, Any]) -> str:
    """A reported check's name with its variant: `name[variant]`."""
    return check["name"] + (f"[{check['variant']}]" if check.get("variant") else "")


def check_label(check: dict[str, Any]) -> str:
    """A check as a failure line names it: `name[variant] (check <uuid>)`."""
    return f"{check_name(check)} (check {check['id']})"


def failure_text(check: dict[str, Any]) -> str:
    """A failed check's message with its UUID and where it is explained (its docs page)."""
    docs = f"; see {check['docs']}" if check.get("docs") else ""
    return f"{check['message']} [check {check['id']}{docs}]"


def validate_report(report: dict[str, Any]) -> list[str]:
    """Problems with a report against report.schema.json."""
    return schema_errors(report, "report.schema.json", root="report")


def write_json(report: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Validate and write atomically (a crash never leaves a truncated report)."""
    problems = validate_report(report)
    if problems:
        raise CertkitError(f"internal error: the report does not match its schema: {problems[0]}")
    atomic_write(path, json.dumps(report, indent=2, sort_keys=False) + "\n")


def write_junit(report: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """JUnit XML (one test case per check) for Jenkins and Zuul."""
    from junit_xml import TestCase, TestSuite, to_xml_report_string

    cases = []
    for check in report["checks"]:
        docs = f" docs={check['docs']}" if check.get("docs") else ""
        case = TestCase(check_name(check), classname=f"certkit.{check['feature'] or 'unknown'}",
                        elapsed_sec=check["duration"], status=check["outcome"],
                        stdout=f"id={check['id']} level={check['level']}{docs}")
        if check["outcome"] == "failed":
            case.add_failure_info(message=failure_text(check))
        elif check["outcome"] == "error":
            case.add_error_info(message=failure_text(check))
        elif check["outcome"] == "skipped":
            case.add_skipped_info(message=check["message"])
        cases.append(case)
    suite = TestSuite(f"certkit.{report['profile']['name']}", cases,
                      timestamp=report["started_at"],
                      properties={"verdict": report["verdict"], "driver": report["driver"],
                                  "manila_version": report["manila_version"],
                                  **({"scope": " ".join(report["scope"])} if report.get("scope") else {})})
    atomic_write(path, to_xml_report_string([suite], prettyprint=True))


def feature_table(report: dict[str, Any]) -> str:
    """The final table: each feature with its status, claimed ones first. In a suite-scoped run,
    a claimed feature none of whose required checks is in the scope says so, not `unverified`."""
    rows = sorted(report["features"].items(), key=lambda kv: (not kv[1]["claimed"], kv[0]))
    width = max(len(fid) for fid, _ in rows)
    marks = {"verified": "verified", "failed": "FAILED", "unverified": "unverified",
             "not-claimed": "not claimed"}
    scope = report.get("scope")
    lines = [f"{'feature':<{width}}  status"]
    for fid, entry in rows:
        if scope and entry["status"] == "unverified" and not entry.get("required_checks"):
            lines.append(f"{fid:<{width}}  not in scope (no required check in {' + '.join(scope)})")
            continue
        extra = f"  ({entry['reason']})" if entry.get("reason") and entry["status"] != "verified" else ""
        lines.append(f"{fid:<{width}}  {marks[entry['status']]}{extra}")
    return "\n".join(lines)
