"""certkit/publish.py and `certkit publish`: retries, the durable spool, final 4xx, secrets."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from certkit.publish import Publisher
from tests.ci.conftest import ROOT
from tests.ci.dashboard_receiver import Receiver

TOKEN = "t0k'\"$(touch /tmp/pwned)`id`;|&<>*"


@pytest.fixture(scope="module")
def report() -> dict:
    """A real, schema-valid report from `certkit run` (one keyword-selected check)."""
    import tempfile

    out = Path(tempfile.mkdtemp()) / "report.json"
    proc = subprocess.run([sys.executable, "-m", "certkit.cli", "run",
                           str(ROOT / "driver_profiles/manila-dummy.yaml"), "-k", "create_share",
                           "--no-audit", "--report", str(out)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert out.is_file(), proc.stderr
    return json.loads(out.read_text())


@pytest.fixture
def receiver():
    r = Receiver(TOKEN)
    yield r
    r.stop()


def publisher(url: str, tmp_path: Path, **kw) -> Publisher:
    return Publisher(url, TOKEN, tmp_path / "spool", backoff=0.01, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_report_accepted_once_and_idempotent(receiver, report, tmp_path):
    pub = publisher(receiver.url, tmp_path)
    first = pub.submit("reports", report)
    assert first.status == "accepted" and first.detail == "HTTP 201" and first.url
    assert pub.submit("reports", report).detail == "HTTP 200"
    assert list(receiver.reports.values()) == [report] and pub.pending() == []
    path, headers, body = receiver.requests[0]
    assert path == "/api/v1/reports" and headers["Authorization"] == f"Bearer {TOKEN}"


def test_outage_keeps_the_report_on_disk_and_flush_sends_it_later(report, tmp_path, caplog):
    port = free_port()
    down = Publisher(f"http://127.0.0.1:{port}", TOKEN, tmp_path / "spool", retries=1,
                     backoff=0.01)
    with caplog.at_level(logging.WARNING, logger="certkit.publish"):
        result = down.submit("reports", report)
    assert result.status == "pending" and len(down.pending()) == 1
    assert json.loads(down.pending()[0].read_text()) == report
    assert all("\n" not in r.getMessage() and TOKEN not in r.getMessage() for r in caplog.records)
    receiver = Receiver(TOKEN)  # the dashboard is back, on another port
    try:
        back = publisher(receiver.url, tmp_path)
        results = back.flush()
        assert [r.status for r in results] == ["accepted"] and back.pending() == []
        assert list(receiver.reports.values()) == [report]
    finally:
        receiver.stop()


def test_5xx_and_429_are_retried_with_backoff(receiver, report, tmp_path):
    receiver.script = [503, 502, 429]
    result = publisher(receiver.url, tmp_path).submit("reports", report)
    assert result.status == "accepted"
    assert len(receiver.requests) == 4


def test_retries_exhausted_leaves_it_spooled(receiver, report, tmp_path):
    receiver.script = [503] * 10
    pub = publisher(receiver.url, tmp_path, retries=2)
    assert pub.submit("reports", report).status == "pending"
    assert len(receiver.requests) == 3 and len(pub.pending()) == 1


@pytest.mark.parametrize("mutate, status, words", [
    (lambda r: r.update(verdict="great"), 422, "/verdict"),
    (lambda r: r["checks"][0].update(outcome="maybe"), 422, "/checks/0/outcome"),
])
def test_schema_errors_are_final_not_retried(receiver, report, tmp_path, mutate, status, words):
    bad = json.loads(json.dumps(report))
    mutate(bad)
    pub = publisher(receiver.url, tmp_path)
    result = pub.submit("reports", bad)
    assert result.status == "rejected" and f"HTTP {status}" in result.detail
    assert f"; {words}: " in result.detail
    assert len(receiver.requests) == 1 and pub.pending() == []
    rejected = list((tmp_path / "spool" / "rejected").glob("*.json"))
    assert len(rejected) == 1 and rejected[0].with_suffix(".error").read_text().startswith("HTTP 422")


def test_bad_token_is_rejected_and_never_written(receiver, report, tmp_path):
    pub = Publisher(receiver.url, "wrong-" + TOKEN, tmp_path / "spool")
    result = pub.submit("reports", report)
    assert result.status == "rejected" and "HTTP 401" in result.detail
    for path in (tmp_path / "spool").rglob("*"):
        if path.is_file():
            assert TOKEN not in path.read_text()
    assert TOKEN not in repr(pub)


def _cli(*args: str, token: str | None = TOKEN, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CERTKIT_DASHBOARD_TOKEN"}
    if token is not None:
        env["CERTKIT_DASHBOARD_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "certkit.cli", "publish", *args,
                           "--spool", str(tmp_path / "spool")], capture_output=True, text=True,
                          env=env, timeout=120, cwd=ROOT)


def test_cli_publishes_and_reports_spooled_work(receiver, report, tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    ok = _cli(str(path), "--to", receiver.url, tmp_path=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("accepted: reports ") and TOKEN not in ok.stdout + ok.stderr
    down = _cli(str(path), "--to", f"http://127.0.0.1:{free_port()}", tmp_path=tmp_path)
    assert down.returncode == 1 and "1 spooled in" in down.stdout
    assert TOKEN not in down.stdout + down.stderr
    flushed = _cli("--flush", "--to", receiver.url, tmp_path=tmp_path)
    assert flushed.returncode == 0 and "accepted" in flushed.stdout


@pytest.mark.parametrize("setup, message", [
    (lambda p: p.write_text("{not json"), "not JSON"),
    (lambda p: p.write_text("[1, 2]"), "not a certkit report"),
    (lambda p: None, "cannot read"),
])
def test_cli_bad_input_is_one_line(tmp_path, setup, message):
    path = tmp_path / "r.json"
    setup(path)
    proc = _cli(str(path), "--to", "http://127.0.0.1:9", tmp_path=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_cli_without_token_says_where_it_comes_from(tmp_path):
    proc = _cli("x.json", "--to", "http://127.0.0.1:9", token=None, tmp_path=tmp_path)
    assert proc.returncode == 2 and "CERTKIT_DASHBOARD_TOKEN is not set" in proc.stderr
