"""Benchmark: the full contract suite against the embedded dummy profile.

Prints the wall time of a whole `certkit run` (a new process: Manila's import included), and,
from the report, the time spent inside driver calls and the harness overhead (the rest).
Target (issue 2/3): the whole run under 10 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import record

ROOT = Path(__file__).resolve().parent.parent


def one_run(profile: Path, suites: list[str]) -> tuple[float, dict]:
    """Wall seconds of one `certkit run` process, and its report."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        args = [sys.executable, "-m", "certkit.cli", "run", str(profile), "--report", str(report)]
        for suite in suites:
            args += ["--suite", suite]
        start = time.perf_counter()
        proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall = time.perf_counter() - start
        if not report.exists():
            sys.exit(f"benchmark: certkit run failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
        return wall, json.loads(report.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=str(ROOT / "driver_profiles" / "manila-dummy.yaml"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--suite", action="append", default=[])
    args = parser.parse_args()
    walls, runs, driver, harness = [], [], [], []
    report: dict = {}
    for _ in range(args.runs):
        wall, report = one_run(Path(args.profile), args.suite)
        walls.append(wall)
        runs.append(report["timing"]["total_seconds"])
        driver.append(report["timing"]["driver_seconds"])
        harness.append(report["timing"]["harness_seconds"])
    med = statistics.median
    print(f"profile:                 {report['profile']['name']} (manila {report['manila_version']}, "
          f"{os.cpu_count()} CPUs)")
    print(f"checks:                  {report['summary']['total']} "
          f"({report['summary']['passed']} passed), verdict {report['verdict']}")
    print(f"runs:                    {args.runs}")
    print(f"whole `certkit run`:     {med(walls):.2f} s median (min {min(walls):.2f}, max {max(walls):.2f})"
          " incl. Python start-up and Manila import")
    print(f"  start-up + import:     {med(walls) - med(runs):.2f} s")
    print(f"  suite (audit+pytest):  {med(runs):.2f} s")
    print(f"    inside driver calls: {med(driver):.3f} s ({report['timing']['driver_calls']} calls)")
    print(f"    harness overhead:    {med(harness):.3f} s")
    record("contract_suite", {
        "profile": report["profile"]["name"], "manila_version": report["manila_version"],
        "suites": args.suite or ["contract"], "runs": args.runs,
        "checks": report["summary"]["total"], "passed": report["summary"]["passed"],
        "verdict": report["verdict"],
        "whole_run_s": round(med(walls), 2), "startup_import_s": round(med(walls) - med(runs), 2),
        "suite_s": round(med(runs), 2), "driver_s": round(med(driver), 3),
        "driver_calls": report["timing"]["driver_calls"], "harness_s": round(med(harness), 3),
    })


if __name__ == "__main__":
    main()
