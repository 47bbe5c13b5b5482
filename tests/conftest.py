"""Fixtures shared by certkit's own tests."""

from __future__ import annotations

import dataclasses
import os
import resource
import signal
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from certkit.clienthost import ClientHost
from certkit.lab import clienthost
from certkit.lab.interrupt import shielded
from certkit.profile import Profile, load_profile

ROOT = Path(__file__).resolve().parent.parent
DUMMY_PROFILE = ROOT / "driver_profiles" / "manila-dummy.yaml"


def run_certkit(*args: str, env: dict[str, str] | None = None,
                timeout: float = 1500) -> subprocess.CompletedProcess:
    """`certkit ARGS` as a user runs it, from the repository root (the tests' drivers import),
    with `env` or this environment plus PYTHONPATH=ROOT; output captured. When this process is
    interrupted (Ctrl-C, SIGTERM), the command gets SIGTERM and is waited for, so a `lab up`
    brings down what it started and a `run` cleans up, instead of being SIGKILLed half-way."""
    with subprocess.Popen([sys.executable, "-m", "certkit.cli", *args], cwd=ROOT, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env if env is not None else {**os.environ, "PYTHONPATH": str(ROOT)}) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:
            proc.send_signal(signal.SIGTERM)
            with shielded():
                try:
                    proc.communicate(timeout=300)
                except subprocess.TimeoutExpired:
                    proc.kill()
            raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def pytest_configure(config) -> None:
    """SIGTERM (a CI timeout, `kill`) stops a test process as Ctrl-C does: KeyboardInterrupt, so
    pytest unwinds its fixtures and every lab this process brought up comes down (pytest's
    default for SIGTERM is to die on the spot, leaving the labs running)."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"{signal.Signals(signum).name}")

    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, interrupt)
    # Tests that import a suite module directly see its checks' marks (certkit's plugin, which
    # registers them in a certification run, is not loaded in certkit's own tests).
    from certkit.contract.checks import MARK, PER_TEST_MARK

    config.addinivalue_line("markers", f"{MARK}(info): a certkit check")
    config.addinivalue_line("markers", f"{PER_TEST_MARK}: one check per outside test")


@pytest.fixture(scope="session")
def dummy_profile() -> Profile:
    """The embedded default profile (Manila's DummyDriver)."""
    return load_profile(DUMMY_PROFILE)


def with_timeouts(profile: Profile, **timeouts: float) -> Profile:
    """The profile with some timeouts changed."""
    raw = {**profile.raw, "timeouts": {**profile.raw.get("timeouts", {}), **timeouts}}
    return dataclasses.replace(profile, raw=raw)


FIGURES: dict[str, str] = {}
"""Figures tests measure (lab start-up, certification durations), printed at the end of the run."""


@dataclasses.dataclass
class Stopwatch:
    """What `timed` yields: more figures from the same start (`lap`), and text to follow the
    seconds (`note`, set before the block ends)."""

    start: float
    digits: int
    note: str = ""

    def seconds(self) -> str:
        return f"{time.monotonic() - self.start:.{self.digits}f} s"

    def lap(self, figure: str) -> None:
        """Record `figure`: the seconds since the start, now."""
        FIGURES[figure] = self.seconds()


@contextmanager
def timed(figure: str, digits: int = 1) -> Iterator[Stopwatch]:
    """Record the block's wall time in FIGURES as `figure` ("12.3 s", then the stopwatch's
    `note`) when the block ends without an exception."""
    watch = Stopwatch(time.monotonic(), digits)
    yield watch
    FIGURES[figure] = watch.seconds() + watch.note


CPU_PER_TEST: dict[str, list[float]] = {}
"""Each test's CPU seconds (this process and its reaped children) in setup, call, teardown."""


def _cpu_seconds() -> float:
    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem) -> Iterator[None]:
    """Count the CPU a test costs, its fixtures' set-up and teardown included (the machine CI
    runs on is CPU-bound, so CPU seconds, not wall, say what a test costs the run)."""
    phases = CPU_PER_TEST.setdefault(item.nodeid, [0.0, 0.0, 0.0])
    marks: list[float] = []

    def mark(phase: int) -> None:
        marks.append(_cpu_seconds())
        if len(marks) > 1:
            phases[phase - 1] += marks[-1] - marks[-2]

    item.stash[_CPU_MARK] = mark
    mark(0)
    yield


_CPU_MARK = pytest.StashKey[Callable[[int], None]]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call) -> Iterator[None]:
    """Close the phase `call` just ended (setup, call or teardown) on the test's CPU clock."""
    if _CPU_MARK in item.stash:
        item.stash[_CPU_MARK](("setup", "call", "teardown").index(call.when) + 1)
    yield


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the figures even in -q runs, so CI logs show them, and the tests dearest in CPU."""
    if FIGURES:
        terminalreporter.section("certkit figures")
        for name, value in FIGURES.items():
            terminalreporter.write_line(f"{name}: {value}")
    if CPU_PER_TEST:
        top = sorted(CPU_PER_TEST.items(), key=lambda kv: -sum(kv[1]))[:15]
        total = sum(sum(p) for p in CPU_PER_TEST.values())
        terminalreporter.section(f"CPU per test, top 15 of {total:.0f} s "
                                 "(setup/call/teardown, this process and its reaped children)")
        for nodeid, (setup, run, teardown) in top:
            terminalreporter.write_line(f"{setup + run + teardown:7.1f} s  "
                                        f"{setup:.1f}/{run:.1f}/{teardown:.1f}  {nodeid}")


#: The client host is one per machine (certkit/lab/clienthost.py): test processes running side by
#: side (the two lanes of `make test`, or a developer's second run) take turns with every lab that
#: uses it, CephFS or GlusterFS, from `lab up` to `lab down`.
client_host_lock = clienthost.lock
ceph_lab_lock = clienthost.lock  # the name the CephFS tests use
REQUIRE_LAB = os.environ.get("CERTKIT_REQUIRE_LAB") == "1"

#: Lab tests that do not fit `make test`'s 20 minutes on CI's 2 cores (docs/contributing/
#: test-budget.md): they run with CERTKIT_BEYOND_BUDGET=1 (`make test-beyond-budget`).
beyond_budget = pytest.mark.skipif(
    os.environ.get("CERTKIT_BEYOND_BUDGET") != "1",
    reason="beyond make test's 20-minute budget: `make test-beyond-budget` runs it")


@contextmanager
def running_lab(lab: Any, figure: str) -> Iterator[Any]:
    """`lab` up for a test module, under the client-host lock (when it uses the shared client
    namespace), its `env()` exported; down (and
    the environment restored) afterwards, also after a failure. Skips with the reason when the
    lab cannot run here, or fails when CERTKIT_REQUIRE_LAB=1 (CI)."""
    reason = lab.can_run()
    if reason:
        if REQUIRE_LAB:
            pytest.fail(f"CERTKIT_REQUIRE_LAB=1 but {reason}")
        pytest.skip(reason)
    shared = lab.network.netns == clienthost.DEFAULT_NETNS  # CERTKIT_LAB_NETNS makes another
    with client_host_lock() if shared else nullcontext():
        with timed(figure):
            try:
                lab.up()
            except BaseException:
                with shielded():  # a second Ctrl-C or SIGTERM must not cut the teardown short
                    lab.down()
                raise
        saved = {k: os.environ.get(k) for k in lab.env()}
        os.environ.update(lab.env())
        try:
            yield lab
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            with shielded():
                lab.down()  # idempotent: also after a failure, nothing is left running


class ClientHostLabs:
    """The labs that use the client host (CephFS, GlusterFS), each brought up once per pytest
    process and shared by every test module that asks for it, instead of one `lab up` and `down`
    per module. One at a time, as the client host demands: asking for a lab while another holds
    the client host brings that one down first. Each lab is `running_lab` (so under the
    client-host lock, its env exported) from its first use until `release` or the session's end,
    also on Ctrl-C and SIGTERM (pytest unwinds session fixtures on KeyboardInterrupt)."""

    def __init__(self) -> None:
        self._open: dict[str, tuple[Any, ExitStack]] = {}

    def use(self, kind: Callable[[], Any], figure: str) -> Any:
        """The lab of class `kind` (CephFSLab, GlusterFSLab), up: brought up now unless this
        process already has it up."""
        if kind.name in self._open:
            return self._open[kind.name][0]
        self.release_all()
        stack = ExitStack()
        running = stack.enter_context(running_lab(kind(), figure))
        self._open[kind.name] = (running, stack)
        return running

    def release(self, name: str) -> None:
        """`name`'s lab down now (nothing when this process does not have it up)."""
        if name in self._open:
            self._open.pop(name)[1].close()

    def release_all(self) -> None:
        for name in list(self._open):
            self.release(name)


@pytest.fixture(scope="session")
def client_host_labs() -> Iterator[ClientHostLabs]:
    """This process's client-host labs; every one still up is brought down at the session's end."""
    labs = ClientHostLabs()
    try:
        yield labs
    finally:
        labs.release_all()


def client_workdir_left(lab: Any, run_id: str) -> bool:
    """Whether a run's work directory (mount points, keyrings) is still on the CephFS lab's
    client host (`lab`: a CephFSLab)."""
    env = lab.env()
    with ClientHost("lab", env["CERTKIT_CLIENT_HOST"], "root", env["CERTKIT_CLIENT_KEY"],
                    env["CERTKIT_CLIENT_KNOWN_HOSTS"]) as host:
        assert host.run("test -d /tmp").ok
        return host.run(f"test -e /tmp/certkit-{run_id}").ok


def identity_addresses_left(lab: Any) -> bool:
    """Whether an NFS identity's address (the lab's identities network) is still on the CephFS
    lab's client host, where certkit/nfsclient.py adds one per identity and removes it at the end."""
    env = lab.env()
    with ClientHost("lab", env["CERTKIT_CLIENT_HOST"], "root", env["CERTKIT_CLIENT_KEY"],
                    env["CERTKIT_CLIENT_KNOWN_HOSTS"]) as host:
        found = host.run(f"ip -o addr show to {lab.network.identities}", check=True)
        return bool(found.stdout.strip())
