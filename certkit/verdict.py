"""The verdict rules: when a run certifies a profile, and when it is partial or not certified;
and the suite-scoped verdicts of a run that did not run the certification suites (`--suite scale`
alone): passed or failed about what it ran, never certified.

Pure functions over what a run recorded; report.py assembles the report around them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from certkit.session import CheckResult

CERTIFIED, NOT_CERTIFIED, PARTIAL = "certified", "not-certified", "partial"
PASSED, FAILED = "passed", "failed"
"""Suite-scoped verdicts: every required check the run's suites hold passed, or one did not."""
VERDICTS = (CERTIFIED, NOT_CERTIFIED, PARTIAL, PASSED, FAILED)

CERTIFICATION_SUITES = ("contract",)
"""The suites whose checks a certificate needs: the driver contract every claim rests on. The
data-path, API and scale suites add checks; a run without these suites is suite-scoped."""

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
    scope: tuple[str, ...] | None = None
    """The suites of a suite-scoped run (see scope_of); None: the run can certify."""


@dataclass(frozen=True)
class Verdict:
    """The verdict and every reason for it ([] when certified)."""

    verdict: str
    reasons: tuple[str, ...]


def scope_of(suites: Iterable[str]) -> tuple[str, ...] | None:
    """None when the suites include every certification suite (the run can certify); else the
    suites run, which is the scope of a suite-scoped verdict."""
    suites = tuple(dict.fromkeys(suites))
    if all(s in suites for s in CERTIFICATION_SUITES):
        return None
    return suites


def describe(verdict: str, scope: Sequence[str] | None) -> str:
    """The verdict as a person reads it, e.g. `passed (scale only; not a certification)`."""
    if not scope:
        return verdict
    return f"{verdict} ({' + '.join(scope)} only; not a certification)"


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
    found nothing wrong but did not run everything is partial, never certified. A suite-scoped
    run is judged by judge_scoped."""
    if facts.scope is not None:
        return judge_scoped(facts)
    missing = gaps(facts)
    wrong = failures(facts, complete=not missing)
    if wrong:
        return Verdict(NOT_CERTIFIED, tuple(wrong + missing))
    if missing:
        unverified = [f"feature {fid} is unverified" for fid, e in facts.features.items()
                      if e["claimed"] and e["status"] == "unverified"]
        return Verdict(PARTIAL, tuple(missing + unverified))
    return Verdict(CERTIFIED, ())


def judge_scoped(facts: RunFacts) -> Verdict:
    """The verdict of a run of some suites only, about the checks those suites hold: failed on
    anything certification would call wrong (a failed claimed feature, an error, a leak, an
    interrupt, a false claim); partial when the scope itself did not run completely or no
    required check passed; passed otherwise. Never certified; the reasons say so."""
    scope = " + ".join(facts.scope or ())
    missing = gaps(facts)
    wrong = failures(facts, complete=False)
    if wrong:
        return Verdict(FAILED, tuple(wrong + missing))
    if not missing and not any(r.level == "required" and r.outcome == "passed" for r in facts.results):
        missing.append(f"no required check of the {scope} suite(s) passed (each was skipped)")
    if missing:
        return Verdict(PARTIAL, tuple(missing))
    return Verdict(PASSED, (f"suite-scoped run: every required check of the {scope} suite(s) "
                            f"passed; a certification also runs the "
                            f"{' + '.join(CERTIFICATION_SUITES)} suite",))
