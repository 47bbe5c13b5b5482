"""Benchmark: `certkit lab up manila` cold (nothing running, data directories new) and warm
(everything running), and the memory of each lab service.

    python benchmarks/live_lab.py [PROFILE]     (root; uses a private lab directory)

Cold includes PostgreSQL initdb, a new RabbitMQ node, Keystone bootstrap, Manila db sync and
the wait for the back end's pools; installs are excluded when already done (first run: not).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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

    profile = load_profile(sys.argv[1] if len(sys.argv) > 1 else ROOT / "driver_profiles" / "manila-dummy.yaml")
    root = Path(tempfile.mkdtemp(prefix="certkit-bench-lab-")) / "lab"
    os.environ["CERTKIT_MANILA_LAB_DIR"] = str(root)
    quiet = lambda line: None  # noqa: E731
    figures: dict = {"profile": profile.name}
    try:
        start = time.perf_counter()
        stack.up(profile, root=root, progress=quiet)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        stack.up(profile, root=root, progress=quiet)
        warm = time.perf_counter() - start
        table = ProcessTable(root)
        print(f"profile: {profile.name}")
        print(f"lab up, cold: {cold:.1f} s")
        print(f"lab up, warm (already running): {warm:.1f} s")
        total = 0.0
        for name in table.names():
            pid = table.pid_of(name)
            mib = rss_mib(pid) if pid else 0.0
            total += mib
            print(f"memory {name:<17} {mib:7.0f} MiB")
        print(f"memory total             {total:7.0f} MiB")
        figures.update(up_cold_s=round(cold, 1), up_warm_s=round(warm, 1), memory_total_mib=round(total))
    finally:
        start = time.perf_counter()
        stack.down(root=root, progress=quiet)
        print(f"lab down: {time.perf_counter() - start:.1f} s")
        figures["down_s"] = round(time.perf_counter() - start, 1)
    if "up_cold_s" in figures:
        from results import record

        record("live_lab", figures)
        shutil.rmtree(root.parent, ignore_errors=True)  # the temporary parent directory


if __name__ == "__main__":
    main()
