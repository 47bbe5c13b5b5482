"""`certkit publish` names the user's file; a flush with the dashboard down is one bounded try."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from certkit.dashboard import synthetic
from certkit.publish import Publisher

ROOT = Path(__file__).resolve().parents[2]


class CountingDashboard:
    """A loopback HTTP server answering every POST with one status, counting requests."""

    def __init__(self, status: int, body: dict) -> None:
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.requests += 1
                self.rfile.read(int(self.headers.get("content-length", 0)))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/problem+json")
                self.send_header("Content-Length", str(len(data)))
                if status == 503:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def down():
    server = CountingDashboard(503, {"title": "Service Unavailable", "status": 503})
    yield server
    server.stop()


def _cli(*args: str, spool: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CERTKIT_DASHBOARD_TOKEN": "token"}
    return subprocess.run([sys.executable, "-m", "certkit.cli", "publish", *args,
                           "--spool", str(spool)], capture_output=True, text=True, env=env,
                          timeout=120, cwd=ROOT)


def test_a_publish_with_the_dashboard_down_is_one_bounded_try_for_the_whole_spool(down, tmp_path):
    """Two reports already spooled and three new ones, the dashboard answering 503: one request
    and its retries, not a round of retries per file; every file stays spooled and is named."""
    spool = tmp_path / "spool"
    publisher = Publisher(down.url, "token", spool)
    for i in range(2):
        publisher.spool("reports", synthetic.report("acme-nfs", f"{i:08x}"), f"old/r{i}.json")
    files = []
    for i in range(3):
        path = tmp_path / f"new-{i}.json"
        path.write_text(json.dumps(synthetic.report("acme-nfs", f"{i + 2:08x}")))
        files.append(str(path))
    proc = _cli(*files, "--to", down.url, "--retries", "2", spool=spool)
    assert proc.returncode == 1
    assert down.requests == 3, proc.stdout  # the first body: one request, two retries
    assert proc.stdout.startswith("pending: reports old/r0.json: HTTP 503")
    assert "not tried (the dashboard did not take the one before): old/r1.json, " + \
        ", ".join(files) in proc.stdout
    assert "5 spooled in" in proc.stdout and len(publisher.pending()) == 5


def test_every_publish_message_names_the_users_file(tmp_path):
    refusing = CountingDashboard(422, {"title": "Report does not match report.schema.json",
                                       "detail": "/started_at: is in the future", "status": 422})
    try:
        files = []
        for i in range(3):
            path = tmp_path / f"run-{i}.json"
            path.write_text(json.dumps(synthetic.report("acme-nfs", f"{i:08x}")))
            files.append(path)
        proc = _cli(*map(str, files), "--to", refusing.url, spool=tmp_path / "spool")
    finally:
        refusing.stop()
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    for path in files:
        line = next(line for line in lines if str(path) in line)
        assert line.startswith(f"rejected: reports {path}: HTTP 422") and "in the future" in line
    rejected = sorted((tmp_path / "spool" / "rejected").glob("*.source"))
    assert sorted(p.read_text() for p in rejected) == sorted(map(str, files))
