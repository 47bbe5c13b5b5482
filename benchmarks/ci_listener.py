"""Figures for certkit's third-party CI (printed, never asserted).

1. Listener throughput on irrelevant events: stream-events lines parsed and filtered per
   second (aim: >= 2,000/s on 2 cores), and the process's memory over 100,000 events.
2. Event to job start: from a patchset-created line written by the Gerrit double to
   ansible-playbook running (the change fetched, the job frozen, the workspace laid out).
3. `certkit ci run certkit-certify-dummy` wall time against the plain `certkit run` it wraps.

Run: .venv/bin/python benchmarks/ci_listener.py [--events N] [--skip-wrap]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from certkit.ci.config import load_ci_config  # noqa: E402
from certkit.ci.listener import Listener  # noqa: E402
from certkit.ci.runjob import run_job  # noqa: E402
from tests.ci.conftest import write_ci_config  # noqa: E402
from tests.ci.gerrit_double import CI_ACCOUNT, OWNER, GerritDouble  # noqa: E402

from results import record  # noqa: E402


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def irrelevant_events(n: int) -> list[str]:
    """The mix an OpenStack-wide stream carries: other projects, comments, merges, refs."""
    lines = []
    for i in range(n):
        change = {"project": f"openstack/project-{i % 50}", "branch": "master", "number": i,
                  "subject": f"Change {i} with \"quotes\" and $(things)", "owner": OWNER,
                  "url": f"https://review.example.org/c/{i}", "status": "NEW"}
        ps = {"number": 1, "revision": f"{i:040x}", "ref": f"refs/changes/{i % 100:02d}/{i}/1",
              "uploader": OWNER, "createdOn": 1_700_000_000 + i, "kind": "REWORK"}
        kind = i % 4
        if kind == 0:
            event = {"type": "patchset-created", "change": change, "patchSet": ps,
                     "uploader": OWNER}
        elif kind == 1:
            event = {"type": "comment-added", "change": {**change, "project": "openstack/manila"},
                     "patchSet": ps, "author": OWNER, "comment": "Patch Set 1: Code-Review+1\n\nLGTM",
                     "approvals": [{"type": "Code-Review", "value": "1"}]}
        elif kind == 2:
            event = {"type": "change-merged", "change": change, "patchSet": ps,
                     "submitter": OWNER, "newRev": ps["revision"]}
        else:
            event = {"type": "ref-updated", "submitter": OWNER,
                     "refUpdate": {"oldRev": "0" * 40, "newRev": ps["revision"],
                                   "refName": "refs/heads/master", "project": change["project"]}}
        event["eventCreatedOn"] = 1_700_000_000 + i
        lines.append(json.dumps(event))
    return lines


def throughput(tmp: Path, n: int) -> dict:
    double = GerritDouble(tmp / "gerrit")
    double.add_account(CI_ACCOUNT["username"], tmp / "ci_key")
    double.write_known_hosts(tmp / "known_hosts")
    config = load_ci_config(write_ci_config(tmp, double, pipeline={
        "projects": [{"name": "openstack/manila"}], "jobs": ["certkit-certify-dummy"]}))
    double.stop()
    listener = Listener(config)
    logging.getLogger("certkit.ci").setLevel(logging.WARNING)
    batch = irrelevant_events(10_000)
    before = rss_mib()
    marks = []
    start = time.perf_counter()
    for i in range(n):
        listener.handle_line(batch[i % len(batch)])
        if (i + 1) % (n // 4) == 0:
            marks.append(rss_mib())
    elapsed = time.perf_counter() - start
    print(f"listener throughput: {n:,} irrelevant events in {elapsed:.2f} s = "
          f"{n / elapsed:,.0f} events/s (parse + filter + last-seen bookkeeping)")
    print(f"listener memory: RSS {before:.1f} MiB before, "
          + ", ".join(f"{m:.1f}" for m in marks) + f" MiB after each quarter of {n:,} events")
    listener.queue.close()
    return {"events": n, "events_per_s": round(n / elapsed), "rss_mib_before": round(before, 1),
            "rss_mib_after": round(marks[-1], 1) if marks else None}


def event_to_start(tmp: Path, rounds: int) -> dict:
    double = GerritDouble(tmp / "gerrit2")
    double.add_account(CI_ACCOUNT["username"], tmp / "ci_key2")
    double.write_known_hosts(tmp / "known_hosts2")
    repo = tmp / "jobs"
    (repo / ".git").mkdir(parents=True)
    (repo / "zuul.yaml").write_text("- job: {name: noop, parent: null, run: noop.yaml}\n")
    (repo / "noop.yaml").write_text("- hosts: all\n  gather_facts: false\n  tasks: []\n")
    src = tmp / "project"
    src.mkdir()
    for args in (["init", "-q", "-b", "master"], ["config", "user.email", "a@example.org"],
                 ["config", "user.name", "A"], ["commit", "-q", "--allow-empty", "-m", "base"]):
        subprocess.run(["git", *args], cwd=src, check=True)
    double.create_project("openstack/manila", src)
    cfg = write_ci_config(tmp, double, pipeline={"projects": [{"name": "openstack/manila"}],
                                                 "jobs": ["noop"], "zuul_config": [str(repo)]},
                          report={"mode": "dry-run"}, state_dir=str(tmp / "state2"))
    config = load_ci_config(cfg)
    config.gerrit.key_file = tmp / "ci_key2"
    config.gerrit.known_hosts = tmp / "known_hosts2"
    started: dict[int, float] = {}

    def runner(request):
        number = request.change.number
        request.on_start = lambda: started.setdefault(number, time.perf_counter())
        return run_job(request)

    listener = Listener(config, runner=runner)
    thread = threading.Thread(target=listener.serve_forever, daemon=True)
    thread.start()
    double.wait_for_subscriber()
    delays = []
    for i in range(rounds):
        subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", f"change {i}"], cwd=src,
                       check=True)
        number = 100 + i
        sent = time.perf_counter()
        double.upload_patchset("openstack/manila", number, src)
        while number not in started:
            time.sleep(0.005)
        delays.append(started[number] - sent)
        while listener.queue.in_state("queued", "running"):
            time.sleep(0.05)
    listener.stop()
    thread.join(timeout=60)
    double.stop()
    print(f"event to job start (ansible-playbook spawned, change fetched): median "
          f"{statistics.median(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms "
          f"over {rounds} patch sets")
    return {"patch_sets": rounds, "median_ms": round(statistics.median(delays) * 1000),
            "max_ms": round(max(delays) * 1000)}


def wrap_ratio(tmp: Path) -> dict:
    python = str(ROOT / ".venv" / "bin" / "python")
    start = time.perf_counter()
    subprocess.run([python, "-m", "certkit.cli", "run", "driver_profiles/manila-dummy.yaml",
                    "--report", str(tmp / "plain.json")], cwd=ROOT, check=True,
                   capture_output=True)
    plain = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run([python, "-m", "certkit.cli", "ci", "run", "certkit-certify-dummy",
                    "--log-dir", str(tmp / "logs"), "--work-dir", str(tmp / "work")], cwd=ROOT,
                   check=True, capture_output=True)
    wrapped = time.perf_counter() - start
    print(f"certkit run (dummy): {plain:.1f} s; certkit ci run certkit-certify-dummy: "
          f"{wrapped:.1f} s; ratio {wrapped / plain:.2f} (3 playbooks = 3 ansible-playbook "
          f"start-ups + the same certkit run)")
    return {"certkit_run_s": round(plain, 1), "ci_run_s": round(wrapped, 1),
            "ratio": round(wrapped / plain, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-wrap", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = {"listener": throughput(Path(tmp), args.events),
                   "event_to_job_start": event_to_start(Path(tmp), args.rounds)}
        if not args.skip_wrap:
            figures["ci_run_wrap"] = wrap_ratio(Path(tmp))
    record("ci_listener", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
