"""Logs a vendor can read: one line per connection failure (tracebacks only with --debug),
--log-level, one INFO line per ignored event saying why, a line cut by a disconnect logged."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import threading
import time

from tests.ci.conftest import ROOT, upload, wait_for, write_ci_config, zuul_repo
from certkit.ci.gerritdouble import CI_ACCOUNT, OWNER


def closing_server() -> tuple[socket.socket, threading.Event]:
    """Accepts TCP connections and closes them at once (Gerrit accepting then dropping)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except OSError:
                continue
            client.close()

    threading.Thread(target=loop, daemon=True).start()
    return server, stop


def listen(config, *extra: str, until: str, count: int = 1) -> str:
    """Run `certkit ci listen` until `until` appeared `count` times in its log, then SIGTERM."""
    proc = subprocess.Popen([sys.executable, "-m", "certkit.cli", "ci", "listen", "--config",
                             str(config), *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        wait_for(lambda: sum(until in line for line in lines) >= count or proc.poll() is not None,
                 timeout=60, what=until)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        reader.join(timeout=10)
    return "".join(lines)


def test_a_dropped_connection_is_one_line_and_the_traceback_needs_debug(tmp_path, gerrit):
    server, stop = closing_server()
    try:
        config = write_ci_config(tmp_path, gerrit, gerrit={"port": server.getsockname()[1]},
                                 pipeline={"projects": [{"name": "openstack/manila"}],
                                           "jobs": ["noop"],
                                           "zuul_config": [str(zuul_repo(tmp_path))]})
        plain = listen(config, "--log-level", "WARNING", until="cannot connect", count=2)
        debug = listen(config, "--debug", until="Traceback")
    finally:
        stop.set()
        server.close()
    failures = [line for line in plain.splitlines() if "cannot connect" in line]
    assert len(failures) >= 2, plain
    assert all(" ERROR gerrit: acme-ci@127.0.0.1:" in line for line in failures)
    assert "Traceback" not in plain and "paramiko" not in plain.lower()
    assert [line for line in plain.splitlines() if "cannot connect" not in line] == []
    assert " INFO " not in plain  # --log-level WARNING: not even "listening"
    assert "Traceback" in debug


def test_every_ignored_event_has_one_info_line_with_the_reason(start, gerrit, manila_source,
                                                               caplog):
    with caplog.at_level(logging.INFO, logger="certkit.ci"):
        listener, runner = start(pipeline={"projects": [{"name": "openstack/manila",
                                                         "branches": ["master", "stable/*"],
                                                         "files": ["manila/share/"]}]})
        gerrit.wait_for_subscriber()
        upload(gerrit, manila_source, 3001, files=["doc/index.rst"])  # file filter
        upload(gerrit, manila_source, 3002, files=["manila/share/api.py"],
               branch="stable/2026.1")  # stable/* works as a Zuul user means it
        wait_for(lambda: gerrit.reviews(), what="3002's review")
        other = {"type": "patchset-created", "eventCreatedOn": int(time.time()),
                 "change": {"project": "openstack/cinder", "branch": "master", "number": 7},
                 "patchSet": {"number": 1}}
        gerrit.emit(other)
        gerrit.emit({**other, "change": {**other["change"], "project": "openstack/manila",
                                         "branch": "feature/x\nforged line"}})
        gerrit.add_comment(3002, 1, OWNER, "nice work")
        gerrit.add_comment(3002, 1, CI_ACCOUNT, "recheck")
        gerrit.emit({"type": "change-merged", "change": other["change"], "patchSet": {},
                     "eventCreatedOn": 1})
        gerrit.emit_raw('{"type": "patchset-created", "change": {"proj', newline=False)
        gerrit.drop_connections()
        wait_for(lambda: any("line cut by the disconnect" in r.getMessage()
                             for r in caplog.records), what="the cut line logged")
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    for expected in ("ignored patchset-created for 3001,1: no changed file matches the files "
                     "filter of openstack/manila",
                     "ignored patchset-created: project openstack/cinder not configured",
                     "ignored patchset-created: branch feature/x\\nforged line of "
                     "openstack/manila does not match the branches filter",
                     "ignored comment-added: comment is not a recheck",
                     "ignored comment-added: our own comment",
                     "ignored change-merged: change-merged does not trigger"):
        assert expected in messages, (expected, messages)
    assert [r.change.number for r in runner.requests] == [3002]
    cut = [r for r in caplog.records if "line cut by the disconnect" in r.getMessage()]
    assert len(cut) == 1 and cut[0].levelno == logging.WARNING
    assert '{\\"type\\": \\"patchset-created\\"' in cut[0].getMessage() or \
        '{"type": "patchset-created"' in cut[0].getMessage()
    assert all("\n" not in r.getMessage() for r in caplog.records)
