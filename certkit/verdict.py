"""The verdict rules: when a run certifies a profile, and when it is partial or not certified.

Pure functions over what a run recorded; report.py assembles the report around them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from certkit.session import CheckResult

CERTIFIED, NOT_CERTIFIED, PARTIAL = "certified", "not-certified", "partial"

PYTEST_EXIT_NAMES = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests collected"}
"""pytest exit statuses that mean the run did not go through (0 and 1 are normal)."""


@dataclass(frozen=True)
class RunFacts:
    """What a finished run recorded, as far as the verdict is concerned."""

    results: Sequence[CheckResult]
    features: Mapping[str, Mapping[str, object]]
    """feature id -> report entry (claimed, status, reason)."""
    leaks: int = 0
    false_claims: Sequence[str] = ()
    collection_errors: Sequence[str] = ()
    internal_errors: Sequence[str] = ()
    keyword: str | None = None
    deselected: int = 0
    not_run: int = 0
    pytest_exit: int | None = 0
    stop_reason: str | None = None
    interrupted: bool = False
    cleanup_interrupted: bool = False


@dataclass(frozen=True)
class Verdict:
    """The verdict and every reason for it ([] when certified)."""

    verdict: str
    reasons: tuple[str, ...]


def feature_status(claimed: bool, results: Iterable[CheckResult]) -> tuple[str, str]:
    """(status, reason): verified only when every required check of the feature passed."""
    if not claimed:
        return "not-claimed", ""
    required = [r for r in results if r.level == "required"]
    bad = [r for r in required if r.outcome in ("failed", "error")]
    if bad:
        return "failed", f"{bad[0].name}{f'[{bad[0].variant}]' if bad[0].variant else ''}: {bad[0].outcome}"
    if not required:
        return "unverified", "no required check ran for this feature"
    skipped = [r for r in required if r.outcome == "skipped"]
    if skipped:
        return "unverified", f"{skipped[0].name} skipped: {skipped[0].message}"
    return "verified", ""


def failures(facts: RunFacts, complete: bool) -> list[str]:
    """What the run found wrong: any of these makes it not certified."""
    reasons = []
    if facts.interrupted:
        reasons.append("the run was interrupted")
    if facts.stop_reason:
        reasons.append(f"the run stopped: {facts.stop_reason}")
    reasons += [f"false claim: {e}" for e in facts.false_claims]
    for fid, entry in facts.features.items():
        status = entry["status"]
        if entry["claimed"] and (status == "failed" or (status == "unverified" and complete)):
            reasons.append(f"feature {fid} is {status}"
                           + (f" ({entry['reason']})" if entry.get("reason") else ""))
    errors = [r for r in facts.results if r.outcome == "error"]
    if errors:
        reasons.append(f"{len(errors)} check(s) ended in error, e.g. {errors[0].name}: {errors[0].message}")
    if facts.leaks:
        reasons.append(f"{facts.leaks} back-end object(s) could not be deleted"
                       + (" (clean-up interrupted)" if facts.cleanup_interrupted else ""))
    return reasons


def gaps(facts: RunFacts) -> list[str]:
    """Why the run did not execute every check its claims require ([] when it did)."""
    reasons = []
    if facts.keyword:
        reasons.append(f"only checks matching -k {facts.keyword!r} ran "
                       f"({facts.deselected} check(s) left out)")
    reasons += [f"suite error: {e}" for e in facts.collection_errors]
    reasons += [f"pytest internal error: {e}" for e in facts.internal_errors]
    if facts.pytest_exit in PYTEST_EXIT_NAMES and not (facts.interrupted or facts.stop_reason):
        reasons.append(f"pytest ended with exit status {facts.pytest_exit} "
                       f"({PYTEST_EXIT_NAMES[facts.pytest_exit]})")
    elif facts.pytest_exit is None and not facts.false_claims:  # false claims: suites not run
        reasons.append("pytest did not finish")
    if facts.not_run:
        reasons.append(f"{facts.not_run} selected check(s) did not run")
    if not facts.results:
        reasons.append("no checks ran")
    return reasons


def judge(facts: RunFacts) -> Verdict:
    """Certified only when every required check ran and passed and nothing leaked; a run that
    found nothing wrong but did not run everything is partial, never certified."""
    missing = gaps(facts)
    wrong = failures(facts, complete=not missing)
    if wrong:
        return Verdict(NOT_CERTIFIED, tuple(wrong + missing))
    if missing:
        unverified = [f"feature {fid} is unverified" for fid, e in facts.features.items()
                      if e["claimed"] and e["status"] == "unverified"]
        return Verdict(PARTIAL, tuple(missing + unverified))
    return Verdict(CERTIFIED, ())
