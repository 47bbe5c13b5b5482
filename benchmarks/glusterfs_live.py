"""Benchmark: the GlusterFS directory-mapped profile through the live Manila tier: the GlusterFS
lab up, `certkit lab up manila --profile driver_profiles/glusterfs-directory-mapped-layout.yaml`
(real manila-api, -scheduler and -share running Manila's GlusterFS driver), then
`certkit run ... --suite api` (certkit's API checks and manila-tempest-plugin's API tests), then
both labs down. Prints and writes the wall time of each step, the check counts, the verdict per
claimed feature and every failed check.

    python benchmarks/glusterfs_live.py [--subset]   (root; takes the client-host lock)

By default every manila-tempest-plugin API test the profile's claims select runs (the whole
live API tier, about 30 min at load 10); --subset runs only those of a share's life (SUBSET:
shares, access rules, share actions such as extend and shrink, and their negative tests,
about 12 min); $CERTKIT_TEMPEST_REGEX overrides both. certkit's output streams to
reports/glusterfs-live.log. Writes
benchmarks/results/glusterfs_live.json (docs/labs/glusterfs.md quotes it) and the report
reports/glusterfs-directory-mapped-layout-api.json, which `make dashboard-demo` loads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROFILE = ROOT / "driver_profiles" / "glusterfs-directory-mapped-layout.yaml"
REPORT = ROOT / "reports" / "glusterfs-directory-mapped-layout-api.json"
RESULTS = ROOT / "benchmarks" / "results" / "glusterfs_live.json"
LOG = ROOT / "reports" / "glusterfs-live.log"
SUBSET = (r"manila_tempest_tests\.tests\.api\.(test_shares|test_shares_negative|test_rules|test_rules_negative"
          r"|test_shares_actions|test_shares_actions_negative|test_access_rules_metadata)\.")
WHOLE = r"manila_tempest_tests\.tests\.api\."
ONE_CLASS = r"manila_tempest_tests\.tests\.api\.test_shares\.SharesNFSTest\."


def certkit(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    """One certkit command from the repository root, timed."""
    start = time.perf_counter()
    LOG.parent.mkdir(exist_ok=True)
    with LOG.open("a") as log:  # streamed, so a long run can be followed (`tail -f`)
        log.write(f"$ certkit {' '.join(args)}\n")
        log.flush()
        mark = LOG.stat().st_size
        proc = subprocess.run([sys.executable, "-m", "certkit.cli", *args], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, text=True, check=False)
    with LOG.open() as log:
        log.seek(mark)
        proc.stderr = log.read()
    return proc, round(time.perf_counter() - start, 1)


def summary(report: dict) -> dict:
    """Counts, verdict, claimed features and the failed checks of an API-tier report."""
    failed = sorted(f"{c['name']}[{c.get('variant', '')}]" if c.get("variant") else c["name"]
                    for c in report["checks"] if c["outcome"] in ("failed", "error"))
    tempest = [c for c in report["checks"] if c["name"] == "test_tempest"]
    return {"verdict": report["verdict"], "interrupted": bool(report.get("interrupted")),
            "checks_not_run": sum("the run was interrupted" in c["message"] for c in report["checks"]),
            "checks_passed": report["summary"]["passed"],
            "checks_failed": report["summary"]["failed"], "checks_skipped": report["summary"]["skipped"],
            "tempest_tests": len(tempest),
            "tempest_passed": sum(c["outcome"] == "passed" for c in tempest),
            "leaked_objects": len(report["leaks"]), "failed_checks": failed,
            "features": {name: f["status"] for name, f in report["features"].items() if f["claimed"]},
            "per_feature": per_feature(report), "slowest_checks": slowest(report)}


def slowest(report: dict, count: int = 10) -> list[str]:
    """The checks that took the longest, with their seconds (where a long run's time goes)."""
    timed = sorted(report["checks"], key=lambda c: c.get("duration") or 0, reverse=True)[:count]
    return [f"{c['name']}{'[' + c['variant'] + ']' if c.get('variant') else ''}: "
            f"{c.get('duration') or 0:.1f} s" for c in timed]


def per_feature(report: dict) -> dict[str, dict[str, int]]:
    """Checks passed / failed (failed or error) / skipped per feature (tempest's tests count
    under the feature certkit maps them to)."""
    counts: dict[str, dict[str, int]] = {}
    for check in report["checks"]:
        outcome = {"error": "failed"}.get(check["outcome"], check["outcome"])
        entry = counts.setdefault(check.get("feature") or "unknown", {"passed": 0, "failed": 0, "skipped": 0})
        entry[outcome] = entry.get(outcome, 0) + 1
    return dict(sorted(counts.items()))


def main() -> None:
    from certkit.lab import clienthost
    from certkit.lab.glusterfs import GlusterFSLab

    os.chdir(ROOT)
    lab = GlusterFSLab(ROOT / "lab" / "glusterfs")
    # Both labs named by directory: `down` never reaches another worktree's running lab.
    regex = SUBSET if "--subset" in sys.argv[1:] else ONE_CLASS if "--one-class" in sys.argv[1:] else WHOLE
    env = {"CERTKIT_TEMPEST_REGEX": regex, **os.environ, "CERTKIT_LAB_DIR": str(lab.dir),
           "CERTKIT_MANILA_LAB_DIR": str(ROOT / "lab" / "manila")}
    env.pop("OS_AUTH_URL", None)
    results: dict = {"load_before": round(os.getloadavg()[0], 1),
                     "load_avg_before": [round(x, 1) for x in os.getloadavg()]}
    if "--on-running-labs" in sys.argv[1:]:
        return api_run_only(env | lab.env(), results)
    asked = time.perf_counter()
    with clienthost.lock():
        begin = time.perf_counter()
        results["lock_wait_s"] = round(begin - asked, 1)
        try:
            proc, results["glusterfs_up_s"] = certkit("lab", "up", "glusterfs", env=env)
            if proc.returncode:
                raise SystemExit(f"lab up glusterfs failed: {proc.stderr.strip()[-500:]}")
            env.update(lab.env())
            proc, results["manila_up_s"] = certkit("lab", "up", "manila", "--profile", str(PROFILE), env=env)
            if proc.returncode:
                raise SystemExit(f"lab up manila failed: {proc.stderr.strip()[-1500:]}")
            REPORT.parent.mkdir(exist_ok=True)
            proc, results["api_suite_s"] = certkit("run", str(PROFILE), "--suite", "api", "--report",
                                                   str(REPORT), env=env)
            if not REPORT.exists():
                raise SystemExit(f"certkit run wrote no report: {proc.stderr.strip()[-1500:]}")
            results.update(summary(json.loads(REPORT.read_text())))
            results["tempest_regex"] = env["CERTKIT_TEMPEST_REGEX"]
        finally:
            certkit("lab", "down", "manila", env=env)
            certkit("lab", "down", "glusterfs", env=env)
    results["wall_s"] = round(time.perf_counter() - begin, 1)
    results["load_after"] = round(os.getloadavg()[0], 1)
    results["load_avg_after"] = [round(x, 1) for x in os.getloadavg()]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(json.dumps(results, indent=2, sort_keys=True))


def api_run_only(env: dict[str, str], results: dict) -> None:
    """--on-running-labs: only `certkit run --suite api`, on both labs already up (the caller
    holds them and the client-host lock, and brings them down): for a machine too loaded to
    bring the labs up and run the whole tier within one hold."""
    proc, results["api_suite_s"] = certkit("run", str(PROFILE), "--suite", "api", "--report",
                                           str(REPORT), env=env)
    if not REPORT.exists():
        raise SystemExit(f"certkit run wrote no report: {proc.stderr.strip()[-1500:]}")
    results.update(summary(json.loads(REPORT.read_text())), tempest_regex=env["CERTKIT_TEMPEST_REGEX"],
                   wall_s=results["api_suite_s"], load_after=round(os.getloadavg()[0], 1),
                   load_avg_after=[round(x, 1) for x in os.getloadavg()])
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(json.dumps(results, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
