"""Benchmark: `certkit lab up glusterfs` cold (nothing running, a new lab directory) and warm
(everything running), the memory of each lab daemon, `down`, and each GlusterFS profile's
certification (contract + data path): its wall time and the verdict of every claimed feature.

    python benchmarks/glusterfs_lab.py        (root; ~3 min)

It takes the client-host lock when it uses the shared client namespace; with
CERTKIT_LAB_NETNS, CERTKIT_LAB_HOST_IF/CLIENT_IF and CERTKIT_LAB_HOST_IP/CLIENT_IP naming a
namespace of its own it runs beside a CephFS lab instead.

Writes benchmarks/results/glusterfs_lab.json (docs/labs/glusterfs.md quotes it) and the two
reports as reports/glusterfs-*.json (what `make dashboard-demo` loads). Package installs are
excluded when already done (the first run on a machine includes them).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROFILES = ("glusterfs-directory-mapped-layout", "glusterfs-volume-mapped-layout")
RESULTS = ROOT / "benchmarks" / "results" / "glusterfs_lab.json"


def rss_mib(pid: int) -> float:
    """Resident memory of one process, MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def daemon_kind(pid: int) -> str:
    """What a lab process is, from its command line."""
    try:  # comm, not argv[0]: sshd rewrites its argv into a status line
        name = Path(f"/proc/{pid}/comm").read_text().strip()
        joined = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if name == "glusterfs":
        return "quotad" if "quotad" in joined else "gluster_fuse_client"
    return {"glusterfsd": "bricks", "ganesha.nfsd": "ganesha", "glusterd": "glusterd",
            "sshd": "sshd", "dbus-daemon": "dbus"}.get(name, name.replace(".", "_").replace("-", "_"))


def memory(lab) -> dict[str, float]:
    """RSS per kind of daemon (the bricks summed), MiB."""
    totals: dict[str, float] = {}
    for pid, _ in lab._lab_processes():
        kind = daemon_kind(pid)
        totals[kind] = round(totals.get(kind, 0.0) + rss_mib(pid), 1)
    return totals


def certify(profile: str, env: dict[str, str]) -> dict:
    """One certification run, timed from the outside; its verdict per claimed feature."""
    report = ROOT / "reports" / f"{profile}.json"
    report.parent.mkdir(exist_ok=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "certkit.cli", "run", str(ROOT / "driver_profiles" / f"{profile}.yaml"),
                    "--suite", "contract", "--suite", "datapath", "--report", str(report)],
                   cwd=ROOT, env={**os.environ, **env}, capture_output=True, check=False)
    wall = time.perf_counter() - start
    data = json.loads(report.read_text())
    return {"wall_s": round(wall, 1), "load_1min_after": round(os.getloadavg()[0], 1), "verdict": data["verdict"],
            "checks_passed": data["summary"]["passed"], "checks_failed": data["summary"]["failed"],
            "checks_skipped": data["summary"]["skipped"], "leaked_objects": len(data["leaks"]),
            "features": {name: f["status"] for name, f in data["features"].items() if f["claimed"]}}


def main() -> None:
    from certkit.lab import clienthost
    from certkit.lab.glusterfs import GlusterFSLab

    os.chdir(ROOT)  # the profiles name the lab's files as ../lab/glusterfs from their directory
    lab = GlusterFSLab(ROOT / "lab" / "glusterfs")
    results: dict = {"load_before": [round(x, 1) for x in os.getloadavg()]}
    shared = lab.network.netns == clienthost.DEFAULT_NETNS
    with clienthost.lock() if shared else contextlib.nullcontext():
        lab.down()
        try:
            start = time.perf_counter()
            results["load_1min_at_cold_up"] = round(os.getloadavg()[0], 1)
            lab.up()
            results["cold_up_s"] = round(time.perf_counter() - start, 1)
            start = time.perf_counter()
            lab.up()
            results["warm_up_s"] = round(time.perf_counter() - start, 1)
            results["memory_mib"] = memory(lab)
            results["memory_total_mib"] = round(sum(results["memory_mib"].values()), 1)
            results["certification"] = {p.removeprefix("glusterfs-").replace("-", "_"): certify(p, lab.env())
                                        for p in PROFILES}
            # Now with Manila's FUSE mount of the volume (the directory layout's) as well.
            results["memory_after_certification_mib"] = memory(lab)
        finally:
            start = time.perf_counter()
            lab.down()
            results["down_s"] = round(time.perf_counter() - start, 1)
    results["load_after"] = [round(x, 1) for x in os.getloadavg()]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(json.dumps(results, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
