"""Benchmark: `certkit audit --in-tree` (every in-tree driver class of the installed Manila).

Prints the wall time of the whole command in a new process (Manila's import included) and of
the audit itself. Target (issue 4): under 30 s on a 2-core machine.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(runs: int = 3) -> None:
    walls, lines = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "certkit.cli", "audit", "--in-tree",
                                   "--html", f"{tmp}/matrix.html"], cwd=ROOT, capture_output=True,
                                  text=True)
            walls.append(time.perf_counter() - start)
            if proc.returncode != 0:
                sys.exit(f"benchmark: audit failed: {proc.stderr.strip()[-300:]}")
            lines = proc.stdout.strip().splitlines()
    summary = next(line for line in lines if "targets:" in line)
    audit_time = next(line for line in lines if line.startswith("audited in"))
    print(f"machine:                {os.cpu_count()} CPUs")
    print(f"targets:                {summary}")
    print(f"whole command (median): {statistics.median(walls):.2f} s over {runs} runs "
          f"(min {min(walls):.2f}, max {max(walls):.2f}), incl. start-up and Manila import")
    print(f"last run:               {audit_time} (discovery, imports, audit, HTML)")


if __name__ == "__main__":
    main()
