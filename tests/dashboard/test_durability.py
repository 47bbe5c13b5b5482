"""The real server (uvicorn subprocess): CLI token creation, and no accepted report lost to SIGKILL."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import requests

from certkit.dashboard import synthetic
from tests.dashboard.services import DashboardServer, fresh_database


def cli(*args: str) -> subprocess.CompletedProcess:
    """`certkit dashboard ARGS` in a real process (how the ci helper's tests drive it)."""
    return subprocess.run([sys.executable, "-m", "certkit.cli", "dashboard", *args],
                          capture_output=True, text=True, timeout=120)


def cli_here(*args: str) -> subprocess.CompletedProcess:
    """The same command in this process (no second Python start-up and Manila import)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from certkit.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["dashboard", *args])
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "dash.sqlite")
    return fresh_database(request.getfixturevalue("postgres_url"))


def test_token_create_prints_only_the_token_and_list_never_shows_it(tmp_path):
    db = str(tmp_path / "t.sqlite")
    made = cli("token", "create", "--db", db, "--account", "acme-ci", "--profiles", "acme-*")
    assert made.returncode == 0, made.stderr
    lines = made.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ckd_") and len(lines[0]) > 40
    listed = cli_here("token", "list", "--db", db)
    assert "acme-ci" in listed.stdout and lines[0] not in listed.stdout
    assert cli_here("token", "create", "--db", db, "--account", "x").returncode == 2  # no --profiles
    bad = cli_here("serve", "--db", "mysql://h/db")
    assert bad.returncode == 2 and "not supported" in bad.stderr and "Traceback" not in bad.stderr
    # An unreachable PostgreSQL: one line naming the server, never the password.
    down = cli_here("token", "list", "--db", "postgresql://ci:pa%3Css%22word@127.0.0.1:1/x")
    assert down.returncode == 2 and "127.0.0.1" in down.stderr and "Traceback" not in down.stderr
    assert "pa<ss" not in down.stderr and "pa%3Css" not in down.stderr


def test_sigkill_during_ingest_loses_nothing_accepted(db_url):
    token = cli_here("token", "create", "--db", db_url, "--account", "acme-ci",
                "--profiles", "acme-*").stdout.strip()
    server = DashboardServer(db_url, "--rate-limit", "0").start()
    accepted: list[str] = []
    stop = threading.Event()

    def publish() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        for i in range(400):
            if stop.is_set():
                return
            report = synthetic.report("acme-nfs", f"{i:08x}", checks=20)
            try:
                answer = session.post(server.url + "/api/v1/reports", json=report, timeout=10)
            except requests.ConnectionError:
                return
            if answer.status_code in (200, 201):
                accepted.append(report["run_id"])

    worker = threading.Thread(target=publish)
    worker.start()
    try:
        while len(accepted) < 15 and worker.is_alive():
            worker.join(0.05)
        server.kill()  # mid-stream: requests are in flight
        worker.join(30)
        stop.set()
        assert len(accepted) >= 15
        restarted = DashboardServer(db_url, "--rate-limit", "0").start()
        try:
            for run_id in accepted:
                got = requests.get(f"{restarted.url}/api/v1/runs/acme-nfs/{run_id}.json", timeout=10)
                assert got.status_code == 200, f"accepted run {run_id} lost after SIGKILL"
                assert len(got.json()["report"]["checks"]) == 20
        finally:
            restarted.stop()
    finally:
        stop.set()
        server.stop()


def test_serve_needs_no_set_up(tmp_path):
    """A fresh machine: no --db, no config; the SQLite file appears under XDG_DATA_HOME."""
    import os
    import urllib.request

    from tests.dashboard.services import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CERTKIT_DASHBOARD_DB"}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "certkit.cli", "dashboard", "serve",
                             "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        import time
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/matrix", timeout=2) as page:
                    assert "Compatibility matrix" in page.read().decode()
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert (tmp_path / "data" / "certkit" / "dashboard.sqlite").exists()
    finally:
        proc.terminate()
        proc.wait(10)


def test_sqlite_synchronous_setting(tmp_path, monkeypatch):
    """NORMAL by default (WAL: a commit survives a killed process), FULL on request, else an error."""
    from certkit.dashboard.db import SYNC_ENV, make_engine
    from certkit.errors import CertkitError

    def synchronous() -> tuple[str, int]:
        engine = make_engine(str(tmp_path / "s.sqlite"))
        with engine.connect() as conn:
            found = (conn.exec_driver_sql("PRAGMA journal_mode").scalar(),
                     conn.exec_driver_sql("PRAGMA synchronous").scalar())
        engine.dispose()
        return found

    monkeypatch.delenv(SYNC_ENV, raising=False)
    assert synchronous() == ("wal", 1)  # 1 = NORMAL
    monkeypatch.setenv(SYNC_ENV, "full")
    assert synchronous() == ("wal", 2)  # 2 = FULL
    monkeypatch.setenv(SYNC_ENV, "OFF; DROP TABLE runs")
    with pytest.raises(CertkitError, match=SYNC_ENV):
        synchronous()
