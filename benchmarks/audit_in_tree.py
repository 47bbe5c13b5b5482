"""Benchmark: `certkit audit --in-tree` (every configurable back end of the installed Manila).

Prints the wall time and the CPU time of the whole command in a new process (Python start-up
and Manila's import included), and the command's own "audited in" figure (discovery, imports,
binding, evidence, HTML). Target (issue 11): under 3 s on a 2-core machine. The CPU time is the
figure to compare on a busy machine, where wall time includes waiting for a core.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import record

ROOT = Path(__file__).resolve().parent.parent


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(runs: int = 3) -> None:
    walls, cpus, lines = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            cpu0, start = _children_cpu(), time.perf_counter()
            proc = subprocess.run([sys.executable, "-W", "ignore", "-m", "certkit.cli", "audit",
                                   "--in-tree", "--html", f"{tmp}/matrix.html"], cwd=ROOT,
                                  capture_output=True, text=True)
            walls.append(time.perf_counter() - start)
            cpus.append(_children_cpu() - cpu0)
            if proc.returncode != 0:
                sys.exit(f"benchmark: audit failed: {proc.stderr.strip()[-300:]}")
            lines = proc.stdout.strip().splitlines()
    summary = next(line for line in lines if "back ends:" in line)
    cells = next(line for line in lines if line.startswith("cells:"))
    audit_time = next(line for line in lines if line.startswith("audited in"))
    print(f"machine:                {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"rows:                   {summary}")
    print(f"matrix:                 {cells}")
    print(f"whole command (median): wall {statistics.median(walls):.2f} s, CPU "
          f"{statistics.median(cpus):.2f} s over {runs} runs (wall min {min(walls):.2f}, "
          f"max {max(walls):.2f}), incl. start-up and Manila import")
    print(f"last run:               {audit_time} (discovery, imports, binding, evidence, HTML)")
    record("audit_in_tree", {
        "runs": runs, "wall_s": round(statistics.median(walls), 2), "cpu_s": round(statistics.median(cpus), 2),
        "rows": summary.strip(), "cells": cells.removeprefix("cells:").strip(),
    })


if __name__ == "__main__":
    main()
