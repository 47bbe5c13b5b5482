"""One real Zuul for the whole module (`certkit lab up zuul`, as a user runs it) pointed at the
Gerrit double, and the helpers the scenarios share."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.ci.conftest import ROOT, manila_source  # noqa: F401 - the session fixture, shared
from tests.conftest import REQUIRE_LAB
from certkit.ci.gerritdouble import CI_ACCOUNT, GerritDouble

VOTE_TIMEOUT = 1200  # seconds
FIGURES_VARIABLE = "CERTKIT_ZUUL_FIGURES"
"""A file to write the lab's figures to (lab up's seconds, the CPU seconds of its daemons)."""


def zuul_lab_unavailable() -> str | None:
    """Why this machine cannot run the Zuul lab (root, Debian's packages), else None."""
    from certkit.zuullab.lab import ZuulLab
    return ZuulLab().can_run()


def certkit(*args: str, env: dict[str, str] | None = None, timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "certkit.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})})


class Gerrit:
    """The double behind a fixed port, restartable like a real Gerrit (same host key, same
    changes and repositories; connections and stream subscribers are lost)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.key = root / "ci_key"
        root.mkdir(parents=True, exist_ok=True)
        self.double = GerritDouble(root / "gerrit")
        self.double.add_account(CI_ACCOUNT["username"], self.key)
        self.port = self.double.port

    def stop(self) -> None:
        """Gerrit goes down: every connection and stream subscriber is lost."""
        self.double.stop()

    def start(self) -> None:
        """Gerrit comes back on the same port, with the same host key, changes and repositories
        (events sent while it was down are not replayed: stream-events has no history)."""
        old = self.double
        new = GerritDouble(old.root, port=self.port)
        new.host_key, new.accounts, new.changes = old.host_key, old.accounts, old.changes
        new.commands = old.commands
        self.double = new

    @property
    def url(self) -> str:
        return f"ssh://{CI_ACCOUNT['username']}@127.0.0.1:{self.port}"

    def votes(self, change: int) -> list[list[str]]:
        return [argv for argv in self.double.reviews() if argv[-1].split(",")[0] == str(change)]

    def wait_votes(self, change: int, count: int, timeout: float = VOTE_TIMEOUT,
                   lab: "ZuulLabHandle | None" = None) -> list[list[str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            votes = self.votes(change)
            if len(votes) >= count:
                return votes
            time.sleep(1)
        detail = lab.diagnostics() if lab else ""
        raise AssertionError(f"change {change}: {len(self.votes(change))} vote(s) after {timeout} s, "
                             f"expected {count}\n{detail}")


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process, the children it reaped and every live descendant (with theirs):
    a daemon's whole cost so far (ansible-playbook under the executor, the builds' commands
    under the node's sshd)."""
    from certkit.ci.proctree import descendants

    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for each in (pid, *descendants(pid)):
        try:
            raw = Path(f"/proc/{each}/stat").read_text()
        except OSError:
            continue
        total += sum(int(f) for f in raw[raw.rindex(")") + 2:].split()[11:15])
    return total / tick


def queue_changes(gerrit: Gerrit, source: Path, numbers: range) -> None:
    """One patch set of openstack/manila for each change number, uploaded back to back (Zuul
    queues them on its two nodes)."""
    from tests.ci.conftest import commit_change

    for number in numbers:
        commit_change(source, f"Queued change {number}", str(number))
        gerrit.double.upload_patchset("openstack/manila", number, source,
                                      files=["manila/certkit_change_marker.py"])


@dataclass
class ZuulLabHandle:
    dir: Path
    env: dict[str, str]
    retired_cpu_s: dict[str, float] = field(default_factory=dict)
    """CPU seconds of daemons the tests stopped or killed (their processes are gone by teardown)."""

    @property
    def state(self) -> dict:
        return json.loads((self.dir / "state.json").read_text())

    def api(self, path: str):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.state['ports']['web']}/api/{path}",
                                    timeout=10) as response:
            return json.loads(response.read())

    def pid(self, daemon: str) -> int:
        return json.loads((self.dir / "run" / f"{daemon}.pid.json").read_text())["pid"]

    def up(self) -> subprocess.CompletedProcess:
        return certkit("lab", "up", "zuul", env=self.env)

    def kill(self, daemon: str, sig: int) -> None:
        """Send `sig` to a daemon and wait until it is gone, its CPU so far kept for the figures."""
        from certkit.lab.processes import is_alive

        pid = self.pid(daemon)
        cpu = tree_cpu_s(pid)
        os.kill(pid, sig)
        deadline = time.monotonic() + 60
        while is_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not is_alive(pid), f"{daemon} ({pid}) still runs 60 s after signal {sig}"
        self.retired_cpu_s[daemon] = self.retired_cpu_s.get(daemon, 0.0) + cpu

    def daemon_cpu_s(self) -> dict[str, float]:
        """CPU seconds of each of the lab's daemons with everything under it, those the tests
        killed included: what the lane's own CPU figure misses, since the daemons are not the
        lane's children."""
        cpu = dict(self.retired_cpu_s)
        for pidfile in sorted((self.dir / "run").glob("*.pid.json")):
            name = pidfile.name[:-len(".pid.json")]
            cpu[name] = cpu.get(name, 0.0) + tree_cpu_s(json.loads(pidfile.read_text())["pid"])
        return {name: round(value, 1) for name, value in sorted(cpu.items())}

    def diagnostics(self) -> str:
        out = []
        for name in ("scheduler", "executor", "launcher"):
            log = self.dir / "logs" / f"{name}.stdout"
            if log.exists():
                lines = [line for line in log.read_text().splitlines() if " ERROR " in line or
                         "Traceback" in line][-8:]
                out.append(f"--- {name}: " + "\n".join(lines))
        return "\n".join(out)


def fetch_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


#: One job line of Zuul's report: the job, its build page on zuul-web (Zuul links the build page,
#: not the log URL, whenever web's root is set), the result.
BUILD_LINE = re.compile(r"^- (?P<job>\S+) http://127\.0\.0\.1:\d+/t/certkit/build/(?P<uuid>[0-9a-f]+) "
                        r": (?P<result>[A-Z_]+) in ", re.MULTILINE)


@pytest.fixture(scope="module")
def gerrit(tmp_path_factory) -> Gerrit:
    handle = Gerrit(tmp_path_factory.mktemp("zuul-gerrit"))
    yield handle
    handle.double.stop()


@pytest.fixture(scope="module")
def zuul_lab(tmp_path_factory, gerrit, manila_source) -> ZuulLabHandle:  # noqa: F811
    reason = zuul_lab_unavailable()
    if reason:
        if REQUIRE_LAB:
            pytest.fail(f"CERTKIT_REQUIRE_LAB=1 but {reason}")
        pytest.skip(reason)
    gerrit.double.create_project("openstack/manila", manila_source)
    lab_dir = tmp_path_factory.mktemp("zuul-lab") / "lab"
    env = {"CERTKIT_LAB_DIR": str(lab_dir)}
    t0 = time.monotonic()
    up = certkit("lab", "up", "zuul", "--gerrit", gerrit.url, "--gerrit-key", str(gerrit.key), env=env)
    handle = ZuulLabHandle(lab_dir, env)
    figures: dict = {}
    try:
        assert up.returncode == 0, up.stderr[-3000:] + handle.diagnostics()
        figures = {"lab_up_s": round(time.monotonic() - t0, 1),
                   "lab_up_lines": [line for line in up.stderr.splitlines() if "figures:" in line
                                    or "zuul venv:" in line or "node mirror:" in line
                                    or "node image:" in line]}
        gerrit.double.wait_for_subscriber(timeout=60)
        yield handle
        figures["daemon_cpu_s"] = handle.daemon_cpu_s()
    finally:
        t0 = time.monotonic()
        down = certkit("lab", "down", "zuul", env=env)
        figures["lab_down_s"] = round(time.monotonic() - t0, 1)
        figures["lab_down_lines"] = [line for line in down.stderr.splitlines() if "down:" in line]
        if os.environ.get(FIGURES_VARIABLE):
            Path(os.environ[FIGURES_VARIABLE]).write_text(json.dumps(figures, indent=2) + "\n")
        assert down.returncode == 0, down.stderr[-2000:]
        assert "nothing left" in down.stderr
        assert not lab_dir.exists()
        from certkit.zuullab.node import network

        netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert network().netns not in netns.split(), netns
