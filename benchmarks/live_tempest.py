"""Benchmark: the whole manila-tempest-plugin API suite against the manila lab, with the wall
time, the outcome counts and the slowest tests.

    certkit lab up manila --profile driver_profiles/manila-dummy.yaml
    python benchmarks/live_tempest.py [PROFILE] [REGEX]

Failures are listed with their message so known_failures.yaml can be reviewed against them.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    import os

    from certkit.livestack.targets import resolve_api_target
    from certkit.apitier.tempest_run import DEFAULT_REGEX, run_tempest
    from certkit.profile import load_profile

    profile = load_profile(sys.argv[1] if len(sys.argv) > 1 else ROOT / "driver_profiles" / "manila-dummy.yaml")
    regex = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_REGEX
    run = run_tempest(profile, resolve_api_target(profile, os.environ), regex=regex,
                      progress=lambda line: print(line, flush=True))
    counts = {o: sum(r.outcome == o for r in run.results) for o in ("passed", "failed", "skipped", "error")}
    print(f"tempest wall time: {run.wall_seconds:.0f} s for {len(run.results)} tests ({regex})")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print("slowest tests:")
    for result in sorted(run.results, key=lambda r: r.duration, reverse=True)[:15]:
        print(f"  {result.duration:6.1f} s  {result.test_id.split('[')[0]}")
    for result in run.results:
        if result.outcome in ("failed", "error"):
            print(f"{result.outcome.upper()}: {result.test_id.split('[')[0]}: {result.message[:300]}")
    from results import record

    record("live_tempest", {"profile": profile.name, "regex": regex, "tests": len(run.results),
                            "wall_s": round(run.wall_seconds), **counts})


if __name__ == "__main__":
    main()
