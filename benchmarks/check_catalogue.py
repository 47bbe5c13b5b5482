"""Benchmark: `certkit checks --json` in a new process (Python start-up included), the figure
behind "fast, no driver loaded" in docs/vendor/checks-and-verdicts.md.

Prints the median wall and CPU time over a few runs and the catalogue's size, and writes them to
benchmarks/results/check_catalogue.json (quoted by the docs with {measured}). Aim: under 3 s.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "check_catalogue.json"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(runs: int = 5) -> None:
    walls, cpus, listed = [], [], []
    for _ in range(runs):
        cpu0, start = _children_cpu(), time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "certkit.cli", "checks", "--json"], cwd=ROOT,
                              capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        cpus.append(_children_cpu() - cpu0)
        if proc.returncode != 0:
            sys.exit(f"benchmark: certkit checks failed: {proc.stderr.strip()[-300:]}")
        listed = json.loads(proc.stdout)
    suites = Counter(entry["suite"] for entry in listed)
    figures = {"list_seconds": round(statistics.median(walls), 2),
               "list_cpu_seconds": round(statistics.median(cpus), 2),
               "checks": len(listed), "per_suite": dict(sorted(suites.items())),
               "features": len({entry["feature"] for entry in listed if entry["feature"]}),
               "per_variant_checks": sum(entry["feature"] is None for entry in listed)}
    print(f"certkit checks --json: median {figures['list_seconds']:.2f} s wall, "
          f"{figures['list_cpu_seconds']:.2f} s CPU over {runs} runs")
    print(f"catalogue: {figures['checks']} checks ("
          + ", ".join(f"{s} {n}" for s, n in figures["per_suite"].items())
          + f"), {figures['features']} features, {figures['per_variant_checks']} per-variant")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
