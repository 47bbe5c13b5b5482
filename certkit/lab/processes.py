"""Daemons a lab starts: launched detached, tracked by a pidfile, stopped by pid, waited for.

A pidfile holds JSON `{"pid", "start_time", "argv"}`; the kernel's start time of the process
(field 22 of /proc/PID/stat) guards against a recycled pid, so `stop` never signals a stranger.
Liveness is read from /proc/PID/stat (a zombie counts as gone: PID 1 here reaps only every ~2 s).

Every process a lab starts carries CERTKIT_LAB_TAG=<the lab's directory> in its environment, and
so do its children and the daemons they fork: `tagged` finds them all, even one whose pidfile
was never written (a `lab up` killed between the start and the pidfile), so `down` and a
repeated `up` can stop what no pidfile names.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from certkit.errors import CertkitError
from certkit.waiting import WaitTimeout, poll_until


class LabError(CertkitError):
    """A lab step failed; the message names the step and where its log is."""


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    return raw[raw.rindex(")") + 2:].split()


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None when it is gone."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def is_alive(pid: int, started: int | None = None) -> bool:
    """Whether `pid` runs (not a zombie) and, when `started` is given, is the same process."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return False
    return started is None or int(fields[19]) == started


TAG_ENV = "CERTKIT_LAB_TAG"


def tag_env(tag: str | Path) -> dict[str, str]:
    """The environment entry that marks a process (and its descendants) as the lab's."""
    return {TAG_ENV: str(tag)}


def session_of(pid: int) -> int | None:
    """The process's session id, or None when it is gone."""
    fields = _stat_fields(pid)
    return int(fields[3]) if fields else None


def parent_of(pid: int) -> int | None:
    """The process's parent pid, or None when it is gone."""
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def descends_from(pid: int, ancestors: set[int]) -> bool:
    """Whether one of `ancestors` is the process itself or an ancestor of it (daemons that
    start their own session, like Erlang's erl_child_setup, stay descendants)."""
    seen = set()
    while pid and pid not in seen:
        if pid in ancestors:
            return True
        seen.add(pid)
        pid = parent_of(pid) or 0
    return False


def ancestors(pid: int | None = None) -> set[int]:
    """`pid` (default this process) and every ancestor of it but PID 1."""
    found, pid = set(), pid or os.getpid()
    while pid > 1 and pid not in found:
        found.add(pid)
        pid = parent_of(pid) or 0
    return found


def marks_lab(entry: Path, wanted_env: bytes, under: bytes) -> bool:
    """Whether this /proc entry's environment holds the tag, its command line names a path
    under the lab's directory, or its stdout or stderr is a file there (a service's log, which
    every fork inherits: the one mark setproctitle cannot overwrite, so a worker whose master
    died first, reparented to init and titled `manila-share: ... worker(0)`, is still found)."""
    try:
        if wanted_env in (entry / "environ").read_bytes().split(b"\0"):
            return True
        if under in (entry / "cmdline").read_bytes():
            return True
    except OSError:
        return False
    for fd in ("1", "2"):
        try:
            if os.fsencode(os.readlink(entry / "fd" / fd)).startswith(under):
                return True
        except OSError:
            continue
    return False


def tagged(tag: str | Path) -> list[tuple[int, int | None]]:
    """(pid, start time) of every live process of the lab: its environment holds the lab's tag,
    or its command line names a path under the lab's directory (Manila's services rewrite
    their process title with setproctitle, which overwrites the environment block that
    /proc/PID/environ shows: the master's title keeps its argv, its --config-file under the
    lab), or it descends from such a process (the services' workers, titled
    `manila-share: ManilaShare worker(0)`, keep neither). Never this process or its parents."""
    mine = ancestors()  # never the caller or its parents (a shell whose command names the lab)
    wanted_env = f"{TAG_ENV}={tag}".encode()
    under = f"{str(tag).rstrip('/')}/".encode()
    marked: set[int] = set()
    others: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        if marks_lab(entry, wanted_env, under):
            marked.add(int(entry.name))
        else:
            others.append(int(entry.name))
    found = marked | {pid for pid in others if descends_from(pid, marked)}
    return [(pid, start_time(pid)) for pid in sorted(found) if is_alive(pid)]


def wait_until(what: str, timeout: float, ready: Callable[[], object], hint: str = "") -> object:
    """Poll `ready` until it returns something true (the one waiter, `poll_until`); a LabError
    naming `what`, the last error or value seen and `hint` at the timeout."""
    def probe() -> object:
        try:
            return ready()
        except Exception as exc:  # noqa: BLE001 - not ready yet (a command failed, no JSON yet)
            return f"error: {exc}"

    def done(value: object) -> bool:
        return bool(value) and not (isinstance(value, str) and value.startswith("error: "))

    try:
        return poll_until(probe, done, timeout=timeout, what=what, interval=0.1, max_interval=1.0)
    except WaitTimeout as exc:
        raise LabError(f"{exc}" + (f" ({hint})" if hint else "")) from None


def reap(pid: int) -> None:
    """Collect the exit status when the process is our own child (tests run labs in-process)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def wait_gone(pids: Iterable[tuple[int, int | None]], timeout: float) -> list[int]:
    """Wait (the one waiter, `poll_until`, every 0.1 s) until every (pid, start time) has
    exited; the pids still alive at the timeout."""
    pending = list(pids)

    def probe() -> list[tuple[int, int | None]]:
        nonlocal pending
        for pid, _ in pending:
            reap(pid)
        pending = [(pid, started) for pid, started in pending if is_alive(pid, started)]
        return pending

    try:
        poll_until(probe, lambda left: not left, timeout=timeout, what="processes to exit",
                   interval=0.1, max_interval=0.1)
    except WaitTimeout:
        pass
    return [pid for pid, _ in pending]


def kill_and_wait(pids: Iterable[tuple[int, int | None]], timeout: float = 20.0) -> list[int]:
    """SIGKILL each live (pid, start time) and wait for all; the pids that survived."""
    targets = [(pid, started) for pid, started in pids if is_alive(pid, started)]
    for pid, _ in targets:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return wait_gone(targets, timeout)


@dataclass
class Daemon:
    """One long-running process of a lab, in the foreground of its own session."""

    name: str
    argv: list[str]
    run_dir: Path
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    tag: str = ""
    """The lab's tag (its directory): the daemon and everything it forks carry it."""
    nice: int = 0
    """Its scheduling niceness (negative: ahead of ordinary processes; needs root). A lab's
    back end answers its clients within their timeouts on a loaded machine: Manila's CephFS
    driver gives each mgr command 10 s (RADOS_TIMEOUT), which a starved mgr once overran in CI."""

    @property
    def pidfile(self) -> Path:
        return self.run_dir / f"{self.name}.pid.json"

    def tracked(self) -> tuple[int, int | None] | None:
        """(pid, start time) from the pidfile, whether or not the process still runs."""
        try:
            record = json.loads(self.pidfile.read_text())
            return int(record["pid"]), record.get("start_time")
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None

    def pid(self) -> int | None:
        """The pid when the daemon runs, else None."""
        record = self.tracked()
        return record[0] if record and is_alive(*record) else None

    def start(self) -> int:
        """Start it unless it runs already; its stdout and stderr go to the log directory."""
        running = self.pid()
        if running:
            return running
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{self.name}.stdout", "ab") as out, \
                open(self.log_dir / f"{self.name}.stderr", "ab") as err:
            if shutil.which(self.argv[0], path=self.env.get("PATH", os.environ.get("PATH"))) is None:
                raise LabError(f"cannot start {self.name} ({self.argv[0]}): not found")
            # nice(1) execs the daemon: the pid, its start time and its command line are the daemon's
            argv = ["nice", "-n", str(self.nice), *self.argv] if self.nice else self.argv
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                        start_new_session=True,
                                        env={**os.environ, **self.env, **(tag_env(self.tag) if self.tag else {})})
            except OSError as exc:
                raise LabError(f"cannot start {self.name} ({self.argv[0]}): {exc.strerror}") from None
        record = {"pid": proc.pid, "start_time": start_time(proc.pid), "argv": self.argv}
        tmp = self.pidfile.with_suffix(".tmp")
        tmp.write_text(json.dumps(record))
        tmp.replace(self.pidfile)
        return proc.pid

    def expect_running(self) -> None:
        """Raise a one-line error naming the log when the daemon has exited."""
        if self.pid() is None:
            raise LabError(f"{self.name} exited (see {self.log_dir / (self.name + '.stderr')})")
