"""Stopping a lab service (certkit.livestack.procs.ProcessTable.stop), without a lab: every
member of its session goes, also a worker whose master died first (Manila's services fork
workers that outlive a SIGKILLed master until they notice), and the stopped process is reaped
(an exploration restarts manila-share many times from one process: no zombie per restart)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from certkit.lab.processes import is_alive, kill_and_wait, tagged
from certkit.livestack.procs import ProcessTable
from certkit.livestack.recovery import strays

SERVICE = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a master slow to stop
child = os.fork()
if child == 0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(120)
    sys.exit(0)
open(sys.argv[1], "w").write(str(child))
time.sleep(120)
"""


def _zombie_children() -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
            except OSError:
                continue
            if fields[0] == "Z" and int(fields[1]) == os.getpid():
                out.append(int(entry.name))
    return out


RETITLED = SERVICE.replace("    time.sleep(120)\n    sys.exit(0)", """    # setproctitle's effect: no tag left in /proc/PID/environ, no lab path in the command line
    os.execve(sys.executable, [sys.executable, "-c", "import time; time.sleep(120)"], {})""")
"""The service, its worker retitled as Manila's are (`manila-share: ServiceWrapper worker(0)`)."""


def _start(table: ProcessTable, tmp_path: Path, source: str = SERVICE) -> tuple[int, int]:
    marker = tmp_path / "child"
    master = table.spawn("svc", [sys.executable, "-c", source, str(marker)])
    deadline = time.monotonic() + 30
    while not (marker.exists() and marker.read_text()):
        assert time.monotonic() < deadline, "the service never forked its worker"
        time.sleep(0.05)
    return master, int(marker.read_text())


def test_stop_takes_the_whole_session_and_reaps(tmp_path):
    table = ProcessTable(tmp_path / "lab")
    master, worker = _start(table, tmp_path)
    table.stop("svc", timeout=1.0)
    assert not is_alive(master) and not is_alive(worker)
    assert master not in _zombie_children()
    assert not (table.pids / "svc.pid").exists()


def test_stop_takes_a_worker_whose_master_died_first(tmp_path):
    table = ProcessTable(tmp_path / "lab")
    master, worker = _start(table, tmp_path)
    os.kill(master, 9)  # the master alone: its worker lives on in the session
    deadline = time.monotonic() + 10
    while is_alive(master) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert is_alive(worker)
    table.stop("svc", timeout=1.0)
    assert not is_alive(worker), "a worker of the stopped service outlived `stop`"
    assert master not in _zombie_children()


def test_a_retitled_worker_orphaned_by_its_masters_death_is_still_the_labs(tmp_path):
    """A worker that missed its master's death (stopped or hung: Manila's workers otherwise
    exit with it), reparented to init, then the service started again (`up`, a restart: a new
    pidfile): no pidfile's session holds it, and setproctitle left no tag or lab path to find
    it by. Its stdout, the service's log under the lab, still marks it: `up` stops it as a
    stray and `down` with everything else (before, it outlived both)."""
    root = tmp_path / "lab"
    table = ProcessTable(root)
    master, worker = _start(table, tmp_path, RETITLED)
    os.kill(master, 9)
    deadline = time.monotonic() + 10
    while is_alive(master) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        table.spawn("svc", [sys.executable, "-c", "import time; time.sleep(120)"])  # started again
        assert worker in {pid for pid, _ in tagged(root)}, "the orphaned worker is not found as the lab's"
        assert [pid for pid, _ in strays(root, table)] == [worker]
        table.stop("svc", timeout=1.0)
        kill_and_wait(strays(root, table, everything=True))  # what `down` does after the pidfiles
        assert not is_alive(worker)
    finally:
        if is_alive(worker):
            os.kill(worker, 9)
