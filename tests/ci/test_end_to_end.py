"""The issue's "done when": a patchset-created event from the Gerrit double leads to the change
being fetched, the dummy certification job running through ansible-playbook, a Verified +1
with a Zuul-format message and the report on the dashboard; a SIGKILL of the listener
mid-build followed by a restart leads to exactly one vote for that patch set.

The dashboard is the real one, driven through its CLI (`certkit dashboard serve`, `certkit
dashboard token create`) and HTTP API as the coordination notes specify.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.ci.conftest import ROOT, commit_change
from certkit.ci.gerritdouble import CI_ACCOUNT

if importlib.util.find_spec("certkit.dashboard") is None:
    pytest.skip("certkit.dashboard is not importable (the dashboard branch is not merged yet)",
                allow_module_level=True)

MESSAGE = re.compile(r"^Build succeeded \(check pipeline\)\.\n\n"
                     r"- certkit-certify-dummy (?P<url>\S+) : SUCCESS in (\d+m \d\ds|\d+s)$")
BUILD_TIMEOUT = 900  # seconds; the job takes well under a minute on an idle 2-core machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def certkit(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "certkit.cli", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT, **kw)


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None,
             log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


@pytest.fixture
def dashboard(tmp_path):
    db = f"sqlite:///{tmp_path / 'dashboard.sqlite'}"
    token = certkit("dashboard", "token", "create", "--db", db, "--account", "acme-ci",
                    "--profiles", "manila-*")
    assert token.returncode == 0, token.stderr
    port = free_port()
    log = tmp_path / "dashboard.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "certkit.cli", "dashboard", "serve",
                                 "--db", db, "--host", "127.0.0.1", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    try:
        wait_for(up, 120, "the dashboard to listen", proc, log)
        yield base, token.stdout.strip()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def start_listener(config: Path, log: Path, token: str) -> subprocess.Popen:
    env = {**os.environ, "CERTKIT_DASHBOARD_TOKEN": token}
    with log.open("a") as out:
        return subprocess.Popen([sys.executable, "-m", "certkit.cli", "ci", "listen", "--config",
                                 str(config)], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                env=env)


def test_patchset_to_vote_to_dashboard_with_a_sigkill_mid_build(tmp_path, gerrit, manila_source,
                                                                dashboard):
    base, token = dashboard
    gerrit.create_project("openstack/manila", manila_source)
    config = tmp_path / "ci.yaml"
    state = tmp_path / "state"
    config.write_text(yaml.safe_dump({
        "gerrit": {"host": "127.0.0.1", "port": gerrit.port, "username": CI_ACCOUNT["username"],
                   "key_file": str(tmp_path / "ci_key"), "known_hosts": str(tmp_path / "known_hosts"),
                   "git_url": gerrit.git_url, "canonical_hostname": "review.example.org"},
        "pipeline": {"name": "check", "jobs": ["certkit-certify-dummy"],
                     "projects": [{"name": "openstack/manila", "branches": ["master"],
                                   "files": ["^manila/"]}]},
        "report": {"mode": "vote", "log_url": "https://logs.acme.example/{change_mod}/{change}/"
                                              "{patchset}/{pipeline}/{job}/{build_short}/"},
        "dashboard": {"url": base},
        "state_dir": str(state),
        "backoff": {"initial": 0.5, "max": 2},
    }))
    log = tmp_path / "listener.log"
    listener = start_listener(config, log, token)
    try:
        wait_for(lambda: gerrit.subscribers, 120, "the listener to subscribe", listener, log)
        sha = commit_change(manila_source, "Share manager: a change under test", "e2e")
        gerrit.upload_patchset("openstack/manila", 4242, manila_source,
                               files=["manila/certkit_change_marker.py"])
        wait_for(lambda: "build started: certkit-certify-dummy" in log.read_text(), BUILD_TIMEOUT,
                 "the build to start", listener, log)
        listener.send_signal(signal.SIGKILL)  # mid-build: ansible-playbook is running
        listener.wait(timeout=30)
        assert gerrit.reviews() == []
        listener = start_listener(config, log, token)
        wait_for(lambda: gerrit.reviews(), BUILD_TIMEOUT, "the vote", listener, log)
        time.sleep(3)  # a second vote would come now, if the queue were not durable
        reviews = gerrit.reviews()
        assert len(reviews) == 1, reviews
        review = reviews[0]
        assert review[:4] == ["gerrit", "review", "--project", "openstack/manila"]
        assert review[6:] == ["--tag", "autogenerated:certkit:check", "--label", "Verified=+1",
                              "4242,1"]
        match = MESSAGE.match(review[5])
        assert match, review[5]
        assert re.fullmatch(r"https://logs.acme.example/42/4242/1/check/certkit-certify-dummy/"
                            r"[0-9a-f]{7}/", match["url"])
        text = log.read_text()
        assert "re-queued 4242,1 (interrupted while running)" in text
        # The report the job produced: Manila from the change, and stored by the dashboard.
        reports = list((state / "logs").rglob("certkit/report.json"))
        assert len(reports) == 1
        report = json.loads(reports[0].read_text())
        assert report["verdict"] == "certified"
        assert report["manila_source"] == {"project": "openstack/manila", "change": 4242,
                                           "patchset": 1, "ref": "refs/changes/42/4242/1",
                                           "commit": sha}
        assert report["manila_version"].endswith(".post1")  # the change's tree, not the release
        log_dir = reports[0].parent.parent
        for name in ("job-output.txt", "job-output.json", "zuul-info/inventory.yaml",
                     "certkit/junit.xml"):
            assert (log_dir / name).is_file(), name
        url = f"{base}/api/v1/runs/{report['profile']['name']}/{report['run_id']}.json"
        wait_for(lambda: "published certkit-certify-dummy: accepted" in log.read_text(), 60,
                 "the report to be published", listener, log)
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
            stored = json.loads(response.read())
        assert stored.get("run_id", report["run_id"]) == report["run_id"]
        assert token not in text
    finally:
        if listener.poll() is None:
            listener.send_signal(signal.SIGTERM)
            try:
                listener.wait(timeout=60)
            except subprocess.TimeoutExpired:
                listener.kill()
    assert listener.returncode in (0, -signal.SIGTERM)
