"""Running a lab's one-shot commands (ceph-authtool, ip, apt-get): argv lists, never a shell."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, Sequence

from certkit.lab.processes import LabError


def say(message: str) -> None:
    """A progress line on stderr (the lab's long steps print as they go)."""
    print(f"lab: {message}", file=sys.stderr, flush=True)


def run(argv: Sequence[str], what: str, timeout: float = 60.0, input: str | None = None,
        env: dict[str, str] | None = None) -> str:
    """Run `argv`; its stdout, or a LabError naming `what` and the last line of its output."""
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                              input=input, env=env)
    except FileNotFoundError:
        raise LabError(f"{what}: {argv[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise LabError(f"{what}: `{' '.join(argv[:3])}` did not finish within {timeout:g} s") from None
    if proc.returncode != 0:
        lines = (proc.stderr.strip() or proc.stdout.strip()).splitlines() or ["(no output)"]
        raise LabError(f"{what}: `{' '.join(argv[:3])}` exited {proc.returncode}: {lines[-1][:200]}")
    return proc.stdout


def run_json(argv: Sequence[str], what: str, timeout: float = 60.0) -> Any:
    """Run a command that prints JSON (`--format json`, `ip -j`) and parse it."""
    out = run(argv, what, timeout)
    try:
        return json.loads(out) if out.strip() else None
    except json.JSONDecodeError:
        raise LabError(f"{what}: `{' '.join(argv[:3])}` printed no JSON: {out.strip()[:120]}") from None


def succeeds(argv: Sequence[str], timeout: float = 30.0) -> bool:
    """Whether the command exits 0 (for probes)."""
    try:
        return subprocess.run(list(argv), capture_output=True, timeout=timeout).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False
