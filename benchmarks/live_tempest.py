"""Benchmark: the whole manila-tempest-plugin API suite against the manila lab, with the wall
time, the outcome counts and the slowest tests; writes benchmarks/results/live_tempest.json.

    certkit lab up manila --profile driver_profiles/manila-dummy.yaml [--db mariadb|postgresql]
    python benchmarks/live_tempest.py [PROFILE] [REGEX]
    python benchmarks/live_tempest.py --reclassify

Failures are listed with their message, and the entries of known_failures.yaml (the test
environment's failures) and superseded.yaml (plugin tests out of date with this Manila, each
replaced by a certkit check) that apply to the lab (its database, Manila and plugin releases),
so the lists can be reviewed against them. `--reclassify` re-derives those counts in the results
file from its recorded failures and the lists as they are now, after a review changed a list.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "live_tempest.json"


def main() -> None:
    import os

    from certkit.apitier.tempest_run import DEFAULT_REGEX, run_tempest
    from certkit.livestack.targets import resolve_api_target
    from certkit.profile import load_profile

    if sys.argv[1:] == ["--reclassify"]:
        return reclassify()

    profile = load_profile(sys.argv[1] if len(sys.argv) > 1 else ROOT / "driver_profiles" / "manila-dummy.yaml")
    regex = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_REGEX
    target = resolve_api_target(profile, os.environ)
    facts = target.facts()
    start = time.perf_counter()
    run = run_tempest(profile, target, regex=regex, progress=lambda line: print(line, flush=True))
    total = time.perf_counter() - start
    counts = {o: sum(r.outcome == o for r in run.results) for o in ("passed", "failed", "skipped", "error")}
    bad = [r for r in run.results if r.outcome in ("failed", "error")]
    slowest = sorted(run.results, key=lambda r: r.duration, reverse=True)[:15]
    results = {
        "profile": profile.name, "database": facts["database"], "manila": facts["manila"],
        "plugin": facts["plugin"], "workers_default": "2 per CPU",
        "tests": len(run.results), "wall_s": round(run.wall_seconds), "wall_min": round(run.wall_seconds / 60, 1),
        "total_s": round(total), **counts, "ran": counts["passed"] + counts["failed"] + counts["error"],
        "reported": sum(not r.message.startswith("tempest reported no result") for r in run.results),
        "failed_or_no_result": len(bad),
        "failures": [{"test": r.test_id.split("[")[0], "outcome": r.outcome, "message": r.message[:300]}
                     for r in bad],
        "shares_api_only_negative": {  # the class Manila's PostgreSQL bug breaks
            "tests": sum("SharesAPIOnlyNegativeTest." in r.test_id for r in run.results),
            "passed": sum("SharesAPIOnlyNegativeTest." in r.test_id and r.outcome == "passed"
                          for r in run.results)},
        "slowest": [{"test": r.test_id.split("[")[0], "s": round(r.duration, 1)} for r in slowest[:5]],
    }
    classify(results, facts)
    print(f"tempest wall time: {run.wall_seconds:.0f} s for {len(run.results)} tests ({regex}); "
          f"database {facts['database']}, manila {facts['manila']}, plugin {facts['plugin']}")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"failed or without a result: {len(bad)}, of which in neither reviewed list: "
          f"{results['unexplained']}")
    print("slowest tests:")
    for result in slowest:
        print(f"  {result.duration:6.1f} s  {result.test_id.split('[')[0]}")
    for result in bad:
        print(f"{result.outcome.upper()}: {result.test_id.split('[')[0]}: {result.message[:300]}")
    if regex != DEFAULT_REGEX:
        return  # a partial run is not the whole-plugin figure the docs quote
    write(results)
    print(f"wrote {RESULTS}")


def reviewed_lists(facts: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(known environment failures, superseded plugin tests) that apply to `facts`."""
    from certkit.plugin.apitier import KNOWN_FAILURES, SUPERSEDED, known_failures, superseded

    suite = ROOT / "suites" / "api"
    return known_failures(suite / KNOWN_FAILURES, facts), superseded(suite / SUPERSEDED, facts)


def classify(results: dict, facts: dict[str, str]) -> None:
    """Mark each recorded failure known / superseded / neither, and set the counts."""
    from certkit.plugin.apitier import known_reason

    known, replaced = reviewed_lists(facts)
    for failure in results["failures"]:
        failure["known"] = bool(known_reason(known, failure["test"]))
        failure["superseded"] = bool(known_reason(replaced, failure["test"]))
    results["known_failures_applying"] = sum(f["known"] for f in results["failures"])
    results["superseded_applying"] = sum(f["superseded"] for f in results["failures"])
    results["unexplained"] = sum(not (f["known"] or f["superseded"]) for f in results["failures"])


def write(results: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


def reclassify() -> None:
    results = json.loads(RESULTS.read_text())
    classify(results, {k: results[k] for k in ("database", "manila", "plugin")})
    write(results)
    print(f"{RESULTS}: {results['known_failures_applying']} known environment failures, "
          f"{results['superseded_applying']} superseded, {results['unexplained']} unexplained")


if __name__ == "__main__":
    main()
