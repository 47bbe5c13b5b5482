"""Scale benchmark on the CephFS lab: Manila's CephFS driver grown to 2,000 subvolumes.

Prints, per step, every operation's latency percentiles, the total time, and the memory (RSS)
of the Ceph daemons at each step and at their peak. Where the driver or the lab hits a limit
(mgr command time-outs, MDS memory) the scale section's findings say so, with numbers.

Run it holding the lab lock (the lab is one per machine):
    flock /work/coord/ceph-lab.lock .venv/bin/python benchmarks/scale_cephfs.py --target 2000
It brings the lab up if needed and down at the end (unless --keep-lab).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from certkit.lab import cephfs  # noqa: E402

DAEMONS = ("ceph-mon", "ceph-mgr", "ceph-osd", "ceph-mds")
STEP_LINE = re.compile(r"scale: N=([\d,]+) measured in")


def daemon_rss_mb(lab_dir: str) -> dict[str, float]:
    """Resident memory (MB) of each Ceph daemon of the lab."""
    rss: dict[str, float] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            status = (proc / "status").read_text()
        except OSError:
            continue
        name = next((d for d in DAEMONS if cmdline.split(" ")[0].endswith(d)), None)
        if name and lab_dir in cmdline:
            kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) if "VmRSS" in status else 0
            rss[name] = rss.get(name, 0.0) + kb / 1024
    return rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=int, default=2000)
    parser.add_argument("--steps", default="100,500,2000", help="comma-separated share counts")
    parser.add_argument("--rules", type=int, default=100, help="rules per share at each step")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--budget", type=float, default=12.0,
                        help="minutes the run may take (the lab is shared): past it, the run is "
                             "interrupted like Ctrl-C and reports how far it got")
    parser.add_argument("--keep-lab", action="store_true", help="leave the lab running at the end")
    parser.add_argument("--out", default=None, help="directory for the report and the plots")
    args = parser.parse_args()

    out = Path(args.out or tempfile.mkdtemp(prefix="certkit-scale-cephfs-"))
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    cephfs.up()
    lab_dir = str(Path(cephfs.lab_env()["CERTKIT_CEPH_CONF"]).resolve().parent)
    profile = yaml.safe_load((ROOT / "driver_profiles" / "cephfs-native.yaml").read_text())
    profile["scale"] = {"target_shares": args.target, "rules_per_share": args.rules,
                        "steps": [int(s) for s in args.steps.split(",") if int(s) <= args.target],
                        "samples": args.samples, "concurrency": args.concurrency}
    profile_path = out / "cephfs-scale.yaml"
    profile_path.write_text(yaml.safe_dump(profile, sort_keys=False))
    memory: dict[str, dict[str, float]] = {"start": daemon_rss_mb(lab_dir)}
    peak: dict[str, float] = dict(memory["start"])
    done = threading.Event()

    def sample() -> None:
        while not done.wait(2.0):
            for name, mb in daemon_rss_mb(lab_dir).items():
                peak[name] = max(peak.get(name, 0.0), mb)

    threading.Thread(target=sample, daemon=True).start()
    report_path = out / "report.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "certkit.cli", "run", str(profile_path), "--suite", "scale",
         "--report", str(report_path), "--plot", str(out / "plots")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    budget = threading.Timer(args.budget * 60, lambda: proc.poll() is None and proc.send_signal(signal.SIGINT))
    budget.daemon = True
    budget.start()
    for line in proc.stderr:
        sys.stderr.write(line)
        match = STEP_LINE.search(line)
        if match:
            memory[f"N={match.group(1)}"] = daemon_rss_mb(lab_dir)
    proc.wait()
    budget.cancel()
    done.set()
    run_seconds = time.monotonic() - started
    if not args.keep_lab:
        cephfs.down()
    if not report_path.exists():
        print(f"no report: certkit exited {proc.returncode}")
        return 1
    report = json.loads(report_path.read_text())
    print_figures(report, memory, peak, run_seconds, out)
    return 0


def print_figures(report: dict, memory: dict, peak: dict, seconds: float, out: Path) -> None:
    scale = report["scale"]
    print(f"\nCephFS scale benchmark: target {scale['target_shares']:,} subvolumes, steps "
          f"{scale['steps']}, {scale['rules_per_share']} cephx rules per step, concurrency "
          f"{scale['concurrency']}, manila {report['manila_version']}")
    print(f"verified to N={scale['verified_shares']:,} with zero errors (reached "
          f"{scale['reached_shares']:,}); total {seconds:.0f} s including lab start; scale run "
          f"{scale['timing']['elapsed_seconds']:.0f} s; teardown "
          f"{scale.get('teardown', {}).get('seconds', 0):.0f} s")
    teardown = scale.get("teardown", {}).get("delete_share", {})
    if teardown.get("count"):
        print(f"teardown delete_share: p50 {teardown['p50'] * 1000:.0f} ms, p95 "
              f"{teardown['p95'] * 1000:.0f} ms, max {teardown['max'] * 1000:.0f} ms over "
              f"{teardown['count']} subvolumes, {scale['concurrency']} at a time")
    if scale.get("stopped"):
        print(f"stopped: {scale['stopped']} (exit {report.get('interrupted') and 130})")
    print("\n| N | operation | n | p50 ms | p95 ms | p99 ms | max ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for step in scale["step_results"]:
        for name, figs in step["operations"].items():
            cells = [f"{figs[k] * 1000:.1f}" if k in figs else "-" for k in ("p50", "p95", "p99", "max")]
            print(f"| {step['shares']:,} | {name} | {figs['count']} | {' | '.join(cells)} | {figs['errors']} |")
    print("\n| operation | exponent | expected | grows with N |")
    print("|---|---|---|---|")
    for name, curve in scale["operations"].items():
        print(f"| {name} | {curve['exponent']} | {curve['expected_exponent']:g} | "
              f"{'YES' if curve['grows_with_n'] or curve.get('grows_with_rules') else 'no'} |")
    print("\nCeph daemon memory (RSS, MB):")
    names = sorted({n for snapshot in memory.values() for n in snapshot})
    print("| when | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for when, snapshot in [*memory.items(), ("peak", peak)]:
        print(f"| {when} | " + " | ".join(f"{snapshot.get(n, 0):.0f}" for n in names) + " |")
    for finding in scale["findings"]:
        print(f"finding: {finding}")
    print(f"\nleaks: {len(report['leaks'])}; report {out / 'report.json'}; plots {out / 'plots'}")
    from results import record

    record("scale_cephfs", {
        "target_shares": scale["target_shares"], "verified_shares": scale["verified_shares"],
        "reached_shares": scale["reached_shares"], "concurrency": scale["concurrency"],
        "total_s": round(seconds), "scale_run_s": round(scale["timing"]["elapsed_seconds"]),
        "leaks": len(report["leaks"]), "findings": len(scale["findings"]),
        "exponents": {name: curve["exponent"] for name, curve in scale["operations"].items()},
        "memory_peak_mb": {name: round(v) for name, v in peak.items()},
    })


if __name__ == "__main__":
    sys.exit(main())
