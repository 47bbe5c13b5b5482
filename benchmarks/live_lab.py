"""Benchmark: `certkit lab up manila` cold (nothing running, data directories new) and warm
(everything running), `down`, and the memory of each lab daemon, on MariaDB (the default) or
PostgreSQL; writes benchmarks/results/live_lab.json (one entry per database, merged).

    python benchmarks/live_lab.py [PROFILE] [--db mariadb|postgresql]   (root; private lab dir)

Cold includes the database's initialisation, a new RabbitMQ node, Keystone bootstrap, Manila db
sync and the wait for the back end's pools; installs are excluded when already done (first run:
not).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "live_lab.json"


def rss_mib(session_id: int) -> float:
    """Resident memory of every process in a session (a service and its workers), MiB."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) != session_id:
                continue
            for line in (stat.parent / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1024


def main() -> None:
    from certkit.livestack import stack
    from certkit.livestack.procs import ProcessTable
    from certkit.profile import load_profile

    parser = argparse.ArgumentParser()
    parser.add_argument("profile", nargs="?", default=str(ROOT / "driver_profiles" / "manila-dummy.yaml"))
    parser.add_argument("--db", default="mariadb", choices=("mariadb", "postgresql"))
    args = parser.parse_args()
    profile = load_profile(args.profile)
    root = Path(tempfile.mkdtemp(prefix="certkit-bench-lab-")) / "lab"
    os.environ["CERTKIT_MANILA_LAB_DIR"] = str(root)
    quiet = lambda line: None  # noqa: E731
    figures: dict[str, object] = {"profile": profile.name, "load_before": round(os.getloadavg()[0], 1)}
    try:
        start = time.perf_counter()
        stack.up(profile, db=args.db, root=root, progress=quiet)
        figures["cold_up_s"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        stack.up(profile, db=args.db, root=root, progress=quiet)
        figures["warm_up_s"] = round(time.perf_counter() - start, 1)
        table = ProcessTable(root)
        memory = {}
        for name in table.names():
            pid = table.pid_of(name)
            memory[name] = round(rss_mib(pid) if pid else 0.0)
        figures["memory_mib"] = memory
        figures["memory_total_mib"] = sum(memory.values())
    finally:
        start = time.perf_counter()
        stack.down(root=root, progress=quiet)
        figures["down_s"] = round(time.perf_counter() - start, 1)
        shutil.rmtree(root.parent, ignore_errors=True)  # the temporary parent directory
    print(f"profile: {profile.name}, database {args.db} (load average before: {figures['load_before']})")
    print(f"lab up, cold: {figures['cold_up_s']} s")
    print(f"lab up, warm (already running): {figures['warm_up_s']} s")
    for name, mib in figures["memory_mib"].items():
        print(f"memory {name:<17} {mib:7d} MiB")
    print(f"memory total             {figures['memory_total_mib']:7d} MiB")
    print(f"lab down: {figures['down_s']} s")
    try:
        results = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        results = {}
    results[args.db] = figures
    if args.db == "mariadb":  # the default lab: its figures also at the top level
        results.update({k: v for k, v in figures.items() if k != "profile"})
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
