"""Kill a whole process tree: the process group and every descendant, even those that left it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def _parents() -> dict[int, int]:
    """pid -> ppid for every process, from /proc."""
    table: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        fields = stat[stat.rfind(")") + 2:].split()
        table[int(entry.name)] = int(fields[1])
    return table


def descendants(pid: int) -> set[int]:
    """Every live descendant of pid (children, grandchildren, ...)."""
    table = _parents()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {child for child, parent in table.items() if parent in frontier} - found
        found |= children
        frontier = children
    return found


def kill_tree(pid: int, grace: float = 3.0) -> None:
    """SIGTERM the group and descendants, then SIGKILL whatever is left after `grace` seconds."""
    targets: set[int] = {pid}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        targets |= descendants(pid)
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        for target in targets:
            try:
                os.kill(target, sig)
            except (ProcessLookupError, PermissionError):
                pass
        if sig == signal.SIGKILL:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not any(alive(t) for t in targets if t != pid) and not alive(pid):
                return
            time.sleep(0.05)


def alive(pid: int) -> bool:
    """True while pid runs (a zombie does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rfind(")") + 2:].split()[0] != "Z"
