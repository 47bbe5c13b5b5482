"""certkit's jobs in a real Zuul 14 (issue 23), end to end, on one lab for the whole module:

- faults first, before any build: ZooKeeper restarted, then Gerrit restarted (Zuul reconnects;
  the patch set uploaded while Gerrit was down is lost to Zuul and recovered by certkit's
  listener); every build after them proves Zuul came back;
- a patch set of openstack/manila -> Zuul runs certkit-certify-dummy on a static node with the
  change's Manila installed -> exactly one Verified +1 with Zuul's own message; the report the
  job published is the change's and goes to a dashboard with `certkit publish`;
- a change that breaks the driver, uploaded at the same time -> Verified -1, the failing check
  named in the job's log; `certkit ci run` on the same change (run meanwhile) gives the same
  verdict and checks;
- `recheck` runs it again, and the executor SIGKILLed during that build: Zuul retries, one vote;
- at the end, every change has exactly the votes it should (none for the lost one).

Cost (docs/zuul/lab.md): one build per behaviour, four builds in all (the killed one short),
waits overlapped; the first build on each of the two nodes pays for its venv.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from certkit.verdict import CERTIFIED, NOT_CERTIFIED
from tests.ci.conftest import ROOT, commit_change
from tests.conftest import beyond_budget
from tests.zuul.conftest import BUILD_LINE, certkit, fetch_text, queue_changes


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


PLUS_ONE, BROKEN, LOST = 5101, 5102, 5104


def test_zookeeper_and_gerrit_restarts_zuul_reconnects(zuul_lab, gerrit, manila_source, tmp_path):
    # ZooKeeper restarted: Zuul's components reconnect (the builds below prove it).
    zuul_lab.kill("zookeeper", signal.SIGTERM)
    up = zuul_lab.up()  # starts what is not running: ZooKeeper
    assert up.returncode == 0, up.stderr[-2000:]

    # Gerrit restarted: a patch set uploaded while it is down reaches no stream subscriber.
    commit_change(manila_source, "Uploaded while Zuul's stream is down", "lost")
    gerrit.stop()
    gerrit.double.upload_patchset("openstack/manila", LOST, manila_source,
                                  files=["manila/certkit_change_marker.py"])
    time.sleep(1)
    gerrit.start()
    gerrit.double.wait_for_subscriber(timeout=120)  # Zuul reconnected (it retries every 5 s)
    assert _listener_recovers(gerrit, tmp_path, LOST)  # certkit's listener queues it from its gap query


@pytest.fixture(scope="module")
def uploaded(zuul_lab, gerrit, manila_source, tmp_path_factory):
    """The +1 change and the broken driver's change, uploaded at once (Zuul builds them on its
    two nodes), and `certkit ci run` of the broken one started meanwhile on this machine."""
    sha = commit_change(manila_source, "Share manager: a change under test", "zuul-e2e")
    gerrit.double.upload_patchset("openstack/manila", PLUS_ONE, manila_source,
                                  files=["manila/certkit_change_marker.py"])
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
    gerrit.double.upload_patchset("openstack/manila", BROKEN, manila_source,
                                  files=["manila/tests/share/drivers/dummy.py"])
    logs = tmp_path_factory.mktemp("ci-run") / "logs"
    local = subprocess.Popen([sys.executable, "-m", "certkit.cli", "ci", "run", "certkit-certify-dummy",
                              "--change", f"{BROKEN},1", "--gerrit-git-url", gerrit.double.git_url,
                              "--log-dir", str(logs)], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        yield {"sha": sha, "local": local, "local_logs": logs}
    finally:
        if local.poll() is None:
            local.kill()
        local.wait()


def test_a_patchset_gets_one_verified_plus_one_and_the_report_is_published(zuul_lab, gerrit, uploaded,
                                                                          tmp_path):
    vote = gerrit.wait_votes(PLUS_ONE, 1, lab=zuul_lab)[0]
    assert vote[:4] == ["gerrit", "review", "--project", "openstack/manila"]
    assert vote[-1] == f"{PLUS_ONE},1"
    message = _message(vote)
    assert _label(vote) == "Verified=1", vote
    assert SUCCESS.match(message), message
    url, result = _log_url(zuul_lab, message)
    assert result == "SUCCESS"
    report = json.loads(fetch_text(url + "certkit/report.json"))
    assert report["verdict"] == CERTIFIED
    assert report["manila_source"]["change"] == PLUS_ONE
    assert report["manila_source"]["commit"] == uploaded["sha"]  # the change's Manila, on the node
    assert report["manila_version"].endswith(".post1")
    assert "certkit-certify-dummy" in fetch_text(url + "zuul-info/inventory.yaml")
    (tmp_path / "report.json").write_text(json.dumps(report))
    _publish(report, tmp_path)


def test_a_broken_driver_gets_minus_one_and_certkit_ci_run_agrees(zuul_lab, gerrit, uploaded):
    first = gerrit.wait_votes(BROKEN, 1, lab=zuul_lab)[0]
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
    local = uploaded["local"]
    output, _ = local.communicate(timeout=1800)
    assert local.returncode == 1, output[-2000:]  # the job failed
    local_report = json.loads((uploaded["local_logs"] / "certkit" / "report.json").read_text())
    assert local_report["verdict"] == zuul_report["verdict"] == NOT_CERTIFIED
    assert local_report["manila_source"] == zuul_report["manila_source"]
    assert _checks(local_report) == _checks(zuul_report)


def test_recheck_runs_again_and_a_killed_executor_is_retried_with_one_vote(zuul_lab, gerrit, uploaded):
    """The recheck's build loses its executor (SIGKILL): Zuul records the lost build, runs the
    job again once an executor is back, and the change gets one vote for the recheck."""
    first = gerrit.wait_votes(BROKEN, 1, lab=zuul_lab)[0]
    gerrit.double.add_comment(BROKEN, 1, {"name": "Jane Developer", "email": "jane@example.org",
                                          "username": "jane"}, "recheck")
    _running_build(zuul_lab, BROKEN)
    zuul_lab.kill("executor", signal.SIGKILL)
    assert len(gerrit.votes(BROKEN)) == 1
    up = zuul_lab.up()  # starts what is not running: the executor
    assert up.returncode == 0, up.stderr[-2000:]
    votes = gerrit.wait_votes(BROKEN, 2, lab=zuul_lab)
    assert [_label(v) for v in votes] == ["Verified=-1", "Verified=-1"]
    assert _log_url(zuul_lab, _message(votes[1]))[0] != _log_url(zuul_lab, _message(first))[0]
    builds = zuul_lab.api(f"tenant/certkit/builds?change={BROKEN}")
    assert len(builds) >= 3, builds  # the first, the one that lost its executor, the retry
    assert [b["result"] for b in builds].count("FAILURE") == 2, builds


def test_each_change_has_exactly_its_votes(zuul_lab, gerrit):
    """One vote per build set, and none for the patch set Zuul never heard of (stream-events
    does not replay what was sent while Gerrit was down)."""
    time.sleep(5)  # a stray second vote would have come by now
    assert {c: len(gerrit.votes(c)) for c in (PLUS_ONE, BROKEN, LOST)} == {PLUS_ONE: 1, BROKEN: 2, LOST: 0}


@beyond_budget
def test_ten_changes_queued_at_once_get_one_vote_each(zuul_lab, gerrit, manila_source):
    """10 patch sets uploaded back to back: each gets exactly one Verified +1, from one build
    (about 15 minutes on the lab's nodes: `make test-beyond-budget`; the figures are
    `benchmarks/zuul_lab.py --ten`'s)."""
    numbers = range(5200, 5210)
    queue_changes(gerrit, manila_source, numbers)
    for number in numbers:
        gerrit.wait_votes(number, 1, timeout=3600, lab=zuul_lab)
    time.sleep(10)  # a stray second vote would have come by now
    assert {n: [_label(v) for v in gerrit.votes(n)] for n in numbers} == {n: ["Verified=1"] for n in numbers}
    builds = {n: [b["result"] for b in zuul_lab.api(f"tenant/certkit/builds?change={n}")] for n in numbers}
    assert builds == {n: ["SUCCESS"] for n in numbers}


def _publish(report: dict, tmp_path: Path) -> None:
    """`certkit publish` the report Zuul's job produced to a dashboard on loopback."""
    import urllib.request

    from tests.ci.test_end_to_end import free_port, wait_for

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
