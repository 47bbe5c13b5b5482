"""Processes of the lab: started detached with a pidfile and a log, stopped by pidfile only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Mapping, Sequence

from certkit.errors import CertkitError
from certkit.lab.processes import TAG_ENV, reap, is_alive, session_of, tag_env
from certkit.lab.processes import start_time as proc_start_time


def alive(pid: int, start_time: str | None = None) -> bool:
    """Whether the process runs (not a zombie) and, if given, started at `start_time` (clock
    ticks since boot, as the pidfile keeps it). /proc is the truth: PID 1 of these machines
    reaps exited children only every few seconds."""
    return is_alive(pid, int(start_time) if start_time else None)


_SPAWNED: set[int] = set()
"""Services this process started and has not reaped yet."""


def reap_spawned() -> None:
    """Collect the exit status of every service this process started that has exited (a long
    exploration restarts manila-share many times: no zombie is left per restart)."""
    for pid in list(_SPAWNED):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done == pid:
            _SPAWNED.discard(pid)


class ProcessTable:
    """The lab's processes: `<dir>/pids/<name>.pid` holds "pid start-time"; each carries the
    lab's tag (certkit.lab.processes.tag_env) in its environment."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pids = root / "pids"
        self.logs = root / "logs"

    def log_path(self, name: str) -> Path:
        """Where a process's stdout and stderr go."""
        return self.logs / f"{name}.log"

    def spawn(self, name: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
              cwd: Path | None = None, user: str | None = None) -> int:
        """Start a process in its own session; returns its pid."""
        reap_spawned()
        self.pids.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        preexec = None
        if user and os.geteuid() == 0:
            import pwd

            entry = pwd.getpwnam(user)

            def preexec() -> None:
                os.setgid(entry.pw_gid)
                os.setuid(entry.pw_uid)
        # (A signal between the start and the pidfile leaves a copy no pidfile names: a restart
        # stops it with the service, certkit.livestack.stack.service_processes. Blocking the
        # signals here instead would leave them blocked in the service, which inherits the mask
        # across exec: its SIGTERM would never arrive.)
        with open(self.log_path(name), "ab") as log:
            try:
                proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, cwd=cwd,
                                        env={**(env if env is not None else os.environ),
                                             **tag_env(self.root)},
                                        start_new_session=True, preexec_fn=preexec)
            except OSError as exc:
                raise CertkitError(f"cannot start {name} ({argv[0]}): {exc.strerror}") from None
            _SPAWNED.add(proc.pid)
            start = str(proc_start_time(proc.pid) or 0)
            pidfile = self.pids / f"{name}.pid"
            pidfile.with_suffix(".tmp").write_text(f"{proc.pid} {start}\n")
            pidfile.with_suffix(".tmp").replace(pidfile)  # never a half-written pidfile
        return proc.pid

    def pid_of(self, name: str) -> int | None:
        """The pid of a running lab process, or None."""
        try:
            pid_s, start = (self.pids / f"{name}.pid").read_text().split()
        except (FileNotFoundError, ValueError):
            return None
        pid = int(pid_s)
        return pid if alive(pid, start) else None

    def running(self, name: str) -> bool:
        """Whether the named process runs."""
        return self.pid_of(name) is not None

    def names(self) -> list[str]:
        """Every process with a pidfile."""
        return sorted(p.stem for p in self.pids.glob("*.pid")) if self.pids.is_dir() else []

    def _record(self, name: str) -> tuple[int, int] | None:
        try:
            pid_s, start = (self.pids / f"{name}.pid").read_text().split()
            return int(pid_s), int(start)
        except (FileNotFoundError, ValueError):
            return None

    def stop(self, name: str, timeout: float = 10.0) -> None:
        """SIGTERM the process's session, then SIGKILL after `timeout`, and wait until every
        member of the session has exited (a service's workers too, also when its master died
        before them); reap what this process started (an exploration restarts manila-share
        many times: no zombie per restart); remove the pidfile."""
        record = self._record(name)
        if record is not None:
            pid, started = record
            if alive(pid, str(started)):
                _signal_group(pid, signal.SIGTERM)
                deadline = time.monotonic() + timeout
                while self._members(name, pid, started) and time.monotonic() < deadline:
                    reap(pid)
                    time.sleep(0.1)
            for member in self._members(name, pid, started):
                _kill(member)
            deadline = time.monotonic() + 5
            while self._members(name, pid, started) and time.monotonic() < deadline:
                reap(pid)
                time.sleep(0.1)
            reap(pid)
        reap_spawned()
        (self.pids / f"{name}.pid").unlink(missing_ok=True)

    def _members(self, name: str, leader: int, started: int) -> list[int]:
        """Live processes of the session `leader` started (the service's master and workers),
        also after the master exited: members of its session that started no earlier than it
        and carry the lab's tag, the lab's path or the service's title (never a stranger that
        got a recycled pid)."""
        from certkit.lab.processes import marks_lab, start_time

        wanted_env = f"{TAG_ENV}={self.root}".encode()
        under = f"{str(self.root).rstrip('/')}/".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or session_of(int(entry.name)) != leader:
                continue
            pid = int(entry.name)
            begun = start_time(pid)
            if begun is None or begun < started or not alive(pid):
                continue
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marks_lab(entry, wanted_env, under) or title.startswith(f"{name}:".encode()):
                found.append(pid)
        return found

    def fail(self, name: str, what: str) -> CertkitError:
        """An error naming the process, what went wrong and the last lines of its log."""
        try:
            lines = [ln for ln in self.log_path(name).read_text(errors="replace").splitlines()
                     if ln.strip()]
        except FileNotFoundError:
            lines = []
        tail = lines[-1].strip()[:300] if lines else "(empty log)"
        return CertkitError(f"lab manila: {name} {what}; last log line ({self.log_path(name)}): {tail}")


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def wait_until(predicate, timeout: float, what: str, table: ProcessTable | None = None,
               name: str | None = None, interval: float = 0.2):
    """Poll `predicate()` until it returns a true value; the error names what did not happen.

    When the watched process dies first, fail at once with its last log line.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if table is not None and name is not None and not table.running(name):
            raise table.fail(name, f"exited while waiting for {what}")
        if time.monotonic() >= deadline:
            if table is not None and name is not None:
                raise table.fail(name, f"did not get to {what} within {timeout:.0f} s")
            raise CertkitError(f"lab manila: {what} did not happen within {timeout:.0f} s")
        time.sleep(interval)


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def gunicorn_args(port: int, app_dir: Path) -> list[str]:
    """gunicorn on loopback: one process, threads, no control socket in $HOME (shared by labs),
    named after its directory in the lab: gunicorn retitles its processes `gunicorn: master
    [NAME]` with setproctitle, which overwrites the lab's tag in /proc/PID/environ, so the name
    is what lets `down` find them (certkit.lab.processes.tagged)."""
    args = ["--bind", f"127.0.0.1:{port}", "-w", "1", "--threads", "8", "-k", "gthread",
            "--timeout", "120", "--name", str(app_dir)]
    return args + ["--no-control-socket"]
