"""`certkit ARGS` in a child forked from one warm process, for tests that run many certifications.

Why: a `certkit run` spends about 4 of its 6.5 CPU seconds importing Manila, pytest and Hypothesis
before its first check (measured on a broken CephFS driver's one-check run). Eighteen broken
drivers certified each by a command of its own paid that eighteen times. Here one server process
imports all of it once, then forks a child per command: the child is a new process for everything a
run changes (os.environ, Manila's oslo.config, pytest's and certkit's state, signal handlers), so
runs stay as apart as separate commands, while the imports are shared copy-on-write.

A child gets exactly the given environment, the repository root as its directory, its output in
files the caller reads, and SIGTERM from the caller when the test is interrupted (as `run_certkit`
does), so a run still cleans up what it made. The server refuses to fork once a thread runs in it
(a forked child would inherit a lock held by a thread that does not exist in it).

Protocol (one JSON object a line): request {"args", "env", "out", "err"}; answers {"pid"} at the
fork, then {"returncode"} when the child ended.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import traceback
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
WARM = ("certkit.cli", "certkit.runner", "certkit.pytest_plugin", "pytest", "hypothesis",
        "manila.share.driver", "manila.share.drivers.cephfs.driver", "tests.broken_cephfs")
"""What the server imports once (what every `certkit run` of a CephFS driver imports first)."""


def _child(request: dict) -> int:
    """Run one command in the forked child; its exit status."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(ROOT)
    out = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open(request["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    sys.argv = ["certkit", *request["args"]]
    from certkit.cli import main

    try:
        code = main(request["args"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception:  # noqa: BLE001 - printed as a dying command would; never back in serve()
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def serve(requests: IO[str], answers: IO[str]) -> None:
    """Fork a child per request line; answer its pid, then its exit status."""
    import importlib

    for name in WARM:
        importlib.import_module(name)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller's Ctrl-C is for the child
    for line in requests:
        request = json.loads(line)
        if threading.active_count() > 1:
            raise SystemExit("forked_certkit: a thread runs in the server; cannot fork safely")
        pid = os.fork()
        if pid == 0:
            os._exit(_child(request))
        answers.write(json.dumps({"pid": pid}) + "\n")
        answers.flush()
        _, status = os.waitpid(pid, 0)
        answers.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")
        answers.flush()


class ForkedCertkit:
    """The caller's side: `run(*args, env=...)` as tests.conftest.run_certkit, one server."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.count = 0
        self.server = subprocess.Popen([sys.executable, "-m", "tests.forked_certkit"], cwd=ROOT,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                       env={**os.environ, "PYTHONPATH": str(ROOT)})

    def _answer(self) -> dict:
        assert self.server.stdout is not None
        line = self.server.stdout.readline()
        if not line:
            raise RuntimeError(f"forked_certkit: the server ended (exit {self.server.wait()})")
        return json.loads(line)

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        from tests.conftest import shielded

        self.count += 1
        out, err = self.workdir / f"{self.count}.out", self.workdir / f"{self.count}.err"
        request = {"args": list(args), "out": str(out), "err": str(err),
                   "env": env if env is not None else {**os.environ, "PYTHONPATH": str(ROOT)}}
        assert self.server.stdin is not None
        self.server.stdin.write(json.dumps(request) + "\n")
        self.server.stdin.flush()
        pid = self._answer()["pid"]
        try:
            code = self._answer()["returncode"]
        except BaseException:
            os.kill(pid, signal.SIGTERM)  # the run cleans up, as run_certkit's command would
            with shielded():
                self._answer()
            raise
        return subprocess.CompletedProcess(["certkit", *args], code, out.read_text(errors="replace"),
                                           err.read_text(errors="replace"))

    def close(self) -> None:
        if self.server.stdin is not None:
            self.server.stdin.close()
        try:
            self.server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()


if __name__ == "__main__":
    serve(sys.stdin, sys.stdout)
