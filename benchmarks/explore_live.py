"""Cost of exploration through Manila's API (the live tier): one seeded `certkit run
--suite explore --explore-tier api` of the DummyDriver on the manila lab, its steps per second
and how often each rule ran; writes benchmarks/results/explore_live.json.

    certkit lab up manila --profile driver_profiles/manila-dummy.yaml
    .venv/bin/python benchmarks/explore_live.py [--budget 300] [--seed 1]
    certkit lab down manila

Each step is API requests plus the waits for Manila to settle (the scheduler, the share
manager's RPC and its access state machine, and for a restart manila-share starting again), so
this measures the lab's Manila far more than certkit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from results import record  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="certkit-explore-live-") as tmp:
        report_path = Path(tmp) / "report.json"
        start = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "certkit.cli", "run", str(ROOT / "driver_profiles" / "manila-dummy.yaml"),
             "--suite", "explore", "--explore-tier", "api", "--no-audit", "--explore-seed",
             str(args.seed), "--explore-budget", str(args.budget), "--explore-steps", str(args.steps),
             "--report", str(report_path)], cwd=ROOT, text=True, capture_output=True)
        wall = time.monotonic() - start
        if not report_path.exists():
            print(done.stderr[-3000:], file=sys.stderr)
            return 2
        report = json.loads(report_path.read_text())
    section = report["explore"]
    figures = {
        "budget_seconds": args.budget, "seed": args.seed, "steps_per_example": args.steps,
        "wall_seconds": round(wall, 1), "explored_seconds": section["elapsed_seconds"],
        "examples": section["examples"], "steps": section["steps"],
        "steps_per_second": section["steps_per_second"],
        "seconds_per_step": round(section["elapsed_seconds"] / max(section["steps"], 1), 2),
        "distinct_states": section["distinct_states"], "rules": section["rules"],
        "counterexample": section["counterexample"], "verdict": report["verdict"],
        "leaks": len(report["leaks"]), "warnings": len(report["warnings"]),
    }
    print(f"{figures['steps']} steps in {figures['explored_seconds']} s through the API: "
          f"{figures['seconds_per_step']} s a step; verdict {figures['verdict']}, "
          f"{figures['leaks']} leaks, {figures['warnings']} warnings")
    record("explore_live", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
