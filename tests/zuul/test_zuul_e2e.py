"""certkit's jobs in a real Zuul 14 (issue 23), end to end, on one lab for the whole module:

- a patch set of openstack/manila -> Zuul runs certkit-certify-dummy on the static node with the
  change's Manila installed -> exactly one Verified +1 with Zuul's own message; the report the
  job published is the change's and goes to a dashboard with `certkit publish`;
- a change that breaks the driver -> Verified -1, the failing check named in the job's log;
  `recheck` runs it again; `certkit ci run` on the same change gives the same verdict and checks;
- faults: the executor SIGKILLed mid-build (Zuul retries, one vote), ZooKeeper restarted, Gerrit
  restarted (Zuul reconnects; the event sent while it was down is lost to Zuul and recovered
  by certkit's listener).

The scenarios run in order on the same lab (the first pays for the node's venv).
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path


from certkit.lab.processes import is_alive
from certkit.verdict import CERTIFIED, NOT_CERTIFIED
from tests.ci.conftest import commit_change
from tests.zuul.conftest import BUILD_LINE, certkit, fetch_text


SUCCESS = re.compile(r"\ABuild succeeded\.\n+http://127\.0\.0\.1:\d+/t/certkit/buildset/\w+\n")
FAILURE = re.compile(r"\ABuild failed\.\n+http://127\.0\.0\.1:\d+/t/certkit/buildset/\w+\n")
BROKEN_EXTEND = '''    def extend_share(self, share, new_size, share_server=None):
        """Extends size of existing share."""
        raise RuntimeError("extend_share is broken by this change")
'''


def _message(vote: list[str]) -> str:
    return vote[vote.index("--message") + 1]


def _label(vote: list[str]) -> str:
    return vote[vote.index("--label") + 1]


def _log_url(lab, message: str, job: str = "certkit-certify-dummy") -> tuple[str, str]:
    """The log URL (the base job's zuul_return, read back from Zuul's API) and result of `job`'s
    build linked from Zuul's report."""
    for match in BUILD_LINE.finditer(message):
        if match["job"] == job:
            build = lab.api(f"tenant/certkit/build/{match['uuid']}")
            assert build["result"] == match["result"], build
            return build["log_url"], match["result"]
    raise AssertionError(f"no build line for {job} in Zuul's message:\n{message}")


def _checks(report: dict) -> set[tuple[str, str]]:
    return {(c["name"], c["outcome"]) for c in report["checks"]}


def test_a_patchset_gets_one_verified_plus_one_and_the_report_is_published(zuul_lab, gerrit,
                                                                          manila_source, tmp_path):
    sha = commit_change(manila_source, "Share manager: a change under test", "zuul-e2e")
    gerrit.double.upload_patchset("openstack/manila", 5101, manila_source,
                                  files=["manila/certkit_change_marker.py"])
    votes = gerrit.wait_votes(5101, 1, lab=zuul_lab)
    time.sleep(5)  # a second vote would come now
    votes = gerrit.votes(5101)
    assert len(votes) == 1, votes
    vote = votes[0]
    assert vote[:4] == ["gerrit", "review", "--project", "openstack/manila"]
    assert vote[-1] == "5101,1"
    message = _message(vote)
    assert _label(vote) == "Verified=1", vote
    assert SUCCESS.match(message), message
    url, result = _log_url(zuul_lab, message)
    assert result == "SUCCESS"
    report = json.loads(fetch_text(url + "certkit/report.json"))
    assert report["verdict"] == CERTIFIED
    assert report["manila_source"]["change"] == 5101
    assert report["manila_source"]["commit"] == sha  # the change's Manila, installed on the node
    assert report["manila_version"].endswith(".post1")
    assert "certkit-certify-dummy" in fetch_text(url + "zuul-info/inventory.yaml")
    (tmp_path / "report.json").write_text(json.dumps(report))
    _publish(report, tmp_path)


def _publish(report: dict, tmp_path: Path) -> None:
    """`certkit publish` the report Zuul's job produced to a dashboard on loopback."""
    from tests.ci.test_end_to_end import free_port, wait_for

    import subprocess
    import sys
    import urllib.request

    from tests.ci.conftest import ROOT

    db = f"sqlite:///{tmp_path / 'dashboard.sqlite'}"
    token = certkit("dashboard", "token", "create", "--db", db, "--account", "acme-ci",
                    "--profiles", "manila-*", timeout=120)
    assert token.returncode == 0, token.stderr
    port = free_port()
    with (tmp_path / "dashboard.log").open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "certkit.cli", "dashboard", "serve", "--db", db,
                                 "--host", "127.0.0.1", "--port", str(port)], stdout=out,
                                stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        def listening() -> bool:
            try:
                urllib.request.urlopen(base + "/", timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(listening, 120, "the dashboard", proc, tmp_path / "dashboard.log")
        published = certkit("publish", str(tmp_path / "report.json"), "--to", base,
                            env={"CERTKIT_DASHBOARD_TOKEN": token.stdout.strip()}, timeout=120)
        assert published.returncode == 0, published.stderr
        url = f"{base}/api/v1/runs/{report['profile']['name']}/{report['run_id']}.json"
        stored = json.loads(fetch_text(url))  # HTTPError 404 unless the dashboard stored this run
        assert stored, url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_broken_driver_gets_minus_one_recheck_reruns_and_certkit_ci_run_agrees(
        zuul_lab, gerrit, manila_source, tmp_path):
    dummy = manila_source / "manila" / "tests" / "share" / "drivers" / "dummy.py"
    original = dummy.read_text()
    head = '''    def extend_share(self, share, new_size, share_server=None):
        """Extends size of existing share."""
'''
    assert head in original
    dummy.write_text(original.replace(head, BROKEN_EXTEND))
    try:
        commit_change(manila_source, "Dummy driver: break extend_share", "broken")
    finally:
        dummy.write_text(original)
    gerrit.double.upload_patchset("openstack/manila", 5102, manila_source,
                                  files=["manila/tests/share/drivers/dummy.py"])
    first = gerrit.wait_votes(5102, 1, lab=zuul_lab)[0]
    assert _label(first) == "Verified=-1", first
    message = _message(first)
    assert FAILURE.match(message), message
    url, result = _log_url(zuul_lab, message)
    assert result == "FAILURE"
    zuul_report = json.loads(fetch_text(url + "certkit/report.json"))
    failed = [c["name"] for c in zuul_report["checks"] if c["outcome"] == "failed"]
    assert failed, zuul_report["checks"]
    job_output = fetch_text(url + "job-output.txt")
    for name in failed:
        assert f"FAILED: {name}" in job_output, name

    # certkit ci run, same job and change (fetched from the same Gerrit's git), same answer.
    local = certkit("ci", "run", "certkit-certify-dummy", "--change", "5102,1",
                    "--gerrit-git-url", gerrit.double.git_url, "--log-dir", str(tmp_path / "logs"))
    assert local.returncode == 1, local.stderr[-2000:]  # the job failed
    local_report = json.loads((tmp_path / "logs" / "certkit" / "report.json").read_text())
    assert local_report["verdict"] == zuul_report["verdict"] == NOT_CERTIFIED
    assert local_report["manila_source"] == zuul_report["manila_source"]
    assert _checks(local_report) == _checks(zuul_report)

    # recheck: the same patch set runs again and gets a second vote.
    gerrit.double.add_comment(5102, 1, {"name": "Jane Developer", "email": "jane@example.org",
                                        "username": "jane"}, "recheck")
    votes = gerrit.wait_votes(5102, 2, lab=zuul_lab)
    assert [_label(v) for v in votes] == ["Verified=-1", "Verified=-1"]
    assert _log_url(zuul_lab, _message(votes[1]))[0] != url  # a new build


def _running_build(zuul_lab, change: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = zuul_lab.api("tenant/certkit/status")
        for pipeline in status.get("pipelines", []):
            for queue in pipeline.get("change_queues", []):
                for head in queue.get("heads", []):
                    for item in head:
                        for ref in item.get("refs", [item]):
                            if str(ref.get("id", "")).startswith(f"{change},"):
                                for job in item.get("jobs", []):
                                    if job.get("start_time") and not job.get("result"):
                                        return
        time.sleep(1)
    raise AssertionError(f"no running build for {change}\n{zuul_lab.diagnostics()}")


def test_executor_killed_mid_build_zuul_retries_and_votes_once(zuul_lab, gerrit, manila_source):
    commit_change(manila_source, "A change whose first build loses its executor", "retry")
    gerrit.double.upload_patchset("openstack/manila", 5103, manila_source,
                                  files=["manila/certkit_change_marker.py"])
    _running_build(zuul_lab, 5103)
    executor = zuul_lab.pid("executor")
    os.kill(executor, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while is_alive(executor) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert gerrit.votes(5103) == []
    up = zuul_lab.up()  # starts what is not running: the executor
    assert up.returncode == 0, up.stderr[-2000:]
    votes = gerrit.wait_votes(5103, 1, lab=zuul_lab)
    time.sleep(5)
    assert len(gerrit.votes(5103)) == 1
    assert _label(votes[0]) == "Verified=1", votes
    builds = zuul_lab.api("tenant/certkit/builds?change=5103")
    assert len(builds) >= 2, builds  # the lost one and the retry
    assert {b["result"] for b in builds} >= {"SUCCESS"}


def test_zookeeper_and_gerrit_restarts(zuul_lab, gerrit, manila_source, tmp_path):
    # ZooKeeper restarted: Zuul's components reconnect and the next change is voted on.
    zk = zuul_lab.pid("zookeeper")
    os.kill(zk, signal.SIGTERM)
    while is_alive(zk):
        time.sleep(0.2)
    up = zuul_lab.up()
    assert up.returncode == 0, up.stderr[-2000:]

    # Gerrit restarted: a patch set uploaded while it is down reaches no stream subscriber.
    commit_change(manila_source, "Uploaded while Zuul's stream is down", "lost")
    gerrit.stop()
    gerrit.double.upload_patchset("openstack/manila", 5104, manila_source,
                                  files=["manila/certkit_change_marker.py"])
    time.sleep(3)
    gerrit.start()
    gerrit.double.wait_for_subscriber(timeout=120)  # Zuul reconnected (it retries every 5 s)
    listener_recovers = _listener_recovers(gerrit, tmp_path, 5104)
    commit_change(manila_source, "Uploaded after Zuul reconnected", "after")
    gerrit.double.upload_patchset("openstack/manila", 5105, manila_source,
                                  files=["manila/certkit_change_marker.py"])
    votes = gerrit.wait_votes(5105, 1, lab=zuul_lab)
    assert _label(votes[0]) == "Verified=1"
    assert gerrit.votes(5104) == []  # Zuul dropped it: stream-events does not replay
    assert listener_recovers  # certkit's listener queues it from its gap query


def _listener_recovers(gerrit, tmp_path: Path, change: int) -> bool:
    """Whether `certkit ci listen`, having listened until a minute ago, queues `change` from its
    gap query when it reconnects (its job runner is recorded, not run: only the trigger counts)."""
    from certkit.ci.config import load_ci_config
    from certkit.ci.gerrit import GerritSSH
    from certkit.ci.listener import Listener
    from tests.ci.conftest import write_ci_config
    from tests.ci.conftest import Runner

    key = tmp_path / "ci_key"
    key.write_bytes(gerrit.key.read_bytes())
    key.chmod(0o600)
    gerrit.double.write_known_hosts(tmp_path / "known_hosts")
    config = load_ci_config(write_ci_config(tmp_path, gerrit.double,
                                            pipeline={"jobs": ["certkit-certify-dummy"]}))
    listener = Listener(config, runner=Runner())
    listener._last_seen = int(time.time()) - 60
    ssh = GerritSSH(config.gerrit)
    try:
        ssh.connect()
        listener.recover_gap(ssh)
    finally:
        ssh.close()
    return any(b.change == change for b in listener.queue.in_state("queued"))
