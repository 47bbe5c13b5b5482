"""The live tier tests' timed certkit commands: each records its wall time in the session's
FIGURES (printed at the end of the run) under the name the caller gives."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import run_certkit, timed


def timed_certkit(figure: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`certkit ARGS`, its wall time recorded as `figure`."""
    with timed(figure):
        return run_certkit(*args, env=env)


def switch_lab(figure: str, profile: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    """The running manila lab switched to `profile` (`lab up manila --profile P [EXTRA]`),
    timed as `figure`; fails the test unless the switch succeeded."""
    proc = timed_certkit(figure, "lab", "up", "manila", "--profile", str(profile), *extra, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc
