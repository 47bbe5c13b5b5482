"""Fixtures shared by certkit's own tests."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from certkit.clienthost import ClientHost
from certkit.lab import clienthost
from certkit.profile import Profile, load_profile

ROOT = Path(__file__).resolve().parent.parent
DUMMY_PROFILE = ROOT / "driver_profiles" / "manila-dummy.yaml"


def run_certkit(*args: str, env: dict[str, str] | None = None,
                timeout: float = 1500) -> subprocess.CompletedProcess:
    """`certkit ARGS` as a user runs it, from the repository root (the tests' drivers import),
    with `env` or this environment plus PYTHONPATH=ROOT; output captured."""
    return subprocess.run([sys.executable, "-m", "certkit.cli", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout,
                          env=env if env is not None else {**os.environ, "PYTHONPATH": str(ROOT)})


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


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the figures even in -q runs, so CI logs show them."""
    if FIGURES:
        terminalreporter.section("certkit figures")
        for name, value in FIGURES.items():
            terminalreporter.write_line(f"{name}: {value}")


#: The client host is one per machine (certkit/lab/clienthost.py): test processes running side by
#: side (the two lanes of `make test`, or a developer's second run) take turns with every lab that
#: uses it, CephFS or GlusterFS, from `lab up` to `lab down`.
client_host_lock = clienthost.lock
ceph_lab_lock = clienthost.lock  # the name the CephFS tests use


def client_workdir_left(lab: Any, run_id: str) -> bool:
    """Whether a run's work directory (mount points, keyrings) is still on the CephFS lab's
    client host (`lab`: a CephFSLab)."""
    env = lab.env()
    with ClientHost("lab", env["CERTKIT_CLIENT_HOST"], "root", env["CERTKIT_CLIENT_KEY"],
                    env["CERTKIT_CLIENT_KNOWN_HOSTS"]) as host:
        assert host.run("test -d /tmp").ok
        return host.run(f"test -e /tmp/certkit-{run_id}").ok
