"""Killing a real `certkit lab up` at an exact step, without sleep races: a tripwire is a script
of the same name as one of the commands `up` runs (`gluster`, `ssh-keygen`, `ceph-osd`...),
first on PATH. When its arguments match, it sends a signal to its parent (the process running
`up`), once, and exits without running the real command (a SIGKILLed `up` never sees that
step begin); otherwise it execs the real command. Helpers for the lab tests (not collected itself).
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
from pathlib import Path

from certkit.lab.base import mounts_under
from certkit.lab.processes import tagged
from tests.conftest import ROOT


def tripwire(where: Path, command: str, words: str, sig: signal.Signals) -> dict[str, str]:
    """Arm a tripwire in `where`: the first `command` whose arguments contain `words` sends
    `sig` to its parent. The environment to run `up` with (this one, PATH led by `where`)."""
    where.mkdir(parents=True, exist_ok=True)
    fired = where / f"{command}.fired"
    script = where / command
    script.write_text(
        "#!/bin/sh\n"
        f"case \" $* \" in *{shlex.quote(' ' + words + ' ')}*)\n"
        f"  if [ ! -e {shlex.quote(str(fired))} ]; then\n"
        f"    : > {shlex.quote(str(fired))}; kill -{sig.name[3:]} $PPID; sleep 5; exit 1\n"
        "  fi;;\nesac\n"
        # The real command, found when it runs (`up` may install its package first).
        f"PATH=${{PATH#*:}} exec {shlex.quote(command)} \"$@\"\n")
    script.chmod(0o755)
    return {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{where}:{os.environ['PATH']}"}


def fired(where: Path, command: str) -> bool:
    """Whether the tripwire for `command` in `where` went off."""
    return (where / f"{command}.fired").exists()


def lab_env(env: dict[str, str], directory: Path) -> dict[str, str]:
    """`env` naming the lab's directory (so `up` and `down` never reach another lab)."""
    return {**env, "CERTKIT_LAB_DIR": str(directory)}


def lab_leftovers(directory: Path) -> list[str]:
    """What of the lab in `directory` is still there: processes carrying its tag or naming it,
    mounts under it, the directory itself."""
    left = [f"process {pid}: {_cmdline(pid)}" for pid, _ in tagged(directory)]
    left += [f"mount {m}" for m in mounts_under(directory)]
    if directory.exists():
        left.append(f"directory {directory}")
    return left


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120]
    except OSError:
        return "(gone)"


def python() -> str:
    """The interpreter running the tests (a child pytest or certkit uses the same)."""
    return sys.executable
