"""A manila lab that never wedges: the state the old port allocator could save (the database and
epmd on one port, a kept port taken by a stranger since), then `lab up` SIGKILLed half-way
(while Keystone is being set up, a one-shot command of it left running), then `lab up` again
finishes the job on distinct free ports, and `lab down` leaves no process and no file.

Needs root; skips with one line otherwise, but fails when CERTKIT_REQUIRE_LAB=1. The allocator
itself, with injected candidates, is tested without a lab in tests/test_lab_ports.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from certkit.lab.processes import tagged
from certkit.livestack.procs import ProcessTable
from certkit.livestack.recovery import PORTS, strays
from certkit.livestack.state import LabState, load_state, save_state
from certkit.profile import load_profile
from tests.conftest import DUMMY_PROFILE, FIGURES, ROOT, run_certkit

REQUIRED = os.environ.get("CERTKIT_REQUIRE_LAB") == "1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _up_killed_after(env: dict[str, str], line: str, delay: float) -> str:
    """Start `certkit lab up manila`, SIGKILL it `delay` s after it prints `line` (only the
    command: what it started lives on, as after an OOM kill); its output so far."""
    proc = subprocess.Popen([sys.executable, "-m", "certkit.cli", "lab", "up", "manila",
                             "--profile", str(DUMMY_PROFILE)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = []
    try:
        for out in proc.stderr:
            seen.append(out)
            if line in out:
                time.sleep(delay)
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return "".join(seen)


def test_a_killed_up_on_colliding_ports_is_finished_by_the_next_up_and_down_leaves_nothing(tmp_path):
    if os.geteuid() != 0:
        if REQUIRED:
            pytest.fail("CERTKIT_REQUIRE_LAB=1 but the manila lab needs root")
        pytest.skip("the manila lab needs root (Debian packages, database servers as their users)")
    root = tmp_path / "lab"
    env = {**os.environ, "CERTKIT_MANILA_LAB_DIR": str(root), "PYTHONPATH": str(ROOT)}
    env.pop("OS_AUTH_URL", None)
    profile = load_profile(DUMMY_PROFILE, check_import=False)
    shared = _free_port()
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        taken = stranger.getsockname()[1]
        state = LabState.new(str(profile.path), profile.name, "manila-dummy", False)
        state.ports = {"db": shared, "epmd": shared, "keystone": taken}
        save_state(root, state)

        start = time.monotonic()
        said = _up_killed_after(env, "rabbitmq on", 2.0)
        assert "port(s) of epmd, keystone in use by something else or shared" in said, said
        killed = load_state(root)
        assert killed.ports["db"] == shared and taken not in killed.ports.values()

        again = run_certkit("lab", "up", "manila", "--profile", str(DUMMY_PROFILE), env=env, timeout=900)
        FIGURES["manila lab: up after a SIGKILLed up"] = f"{time.monotonic() - start:.1f} s in all"
        assert again.returncode == 0, again.stderr[-3000:]
    state = load_state(root)
    assert set(state.ports) == set(PORTS) and len(set(state.ports.values())) == len(PORTS)
    table = ProcessTable(root)
    assert strays(root, table) == [], "a process no pidfile accounts for survived the second up"
    status = run_certkit("lab", "status", "manila", env=env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "database mariadb" in status.stdout

    down = run_certkit("lab", "down", "manila", env=env, timeout=300)
    assert down.returncode == 0, down.stderr
    assert tagged(root) == [] and not root.exists() and not Path(state.db_dir).exists()
