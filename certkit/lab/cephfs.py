"""The CephFS lab: ci/lab/cephfs-lab.sh does the work; this module runs it and makes Debian's
Ceph Python bindings importable from certkit's venv."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from certkit.errors import CertkitError

SCRIPT = Path(__file__).resolve().parent.parent.parent / "ci" / "lab" / "cephfs-lab.sh"
PTH_NAME = "certkit-lab-ceph.pth"


def _run(action: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the lab script; its progress lines go to stderr as they come (and are kept)."""
    if not SCRIPT.exists():
        raise CertkitError(f"{SCRIPT}: the lab script is missing (run from a certkit checkout)")
    proc = subprocess.Popen(["bash", str(SCRIPT), action], text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    lines = []
    assert proc.stderr is not None
    for line in proc.stderr:
        lines.append(line)
        if not capture:
            sys.stderr.write(line)
            sys.stderr.flush()
    stdout = proc.stdout.read() if proc.stdout else ""
    if not capture and stdout:
        sys.stdout.write(stdout)
    return subprocess.CompletedProcess(proc.args, proc.wait(), stdout, "".join(lines))


def _failure(action: str, proc: subprocess.CompletedProcess[str]) -> CertkitError:
    errors = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
    return CertkitError(f"lab {action} cephfs failed: {errors[-1] if errors else 'no output'}")


def lab_env() -> dict[str, str]:
    """The lab's paths (ceph.conf, keyrings, client host) as environment variables."""
    proc = _run("env", capture=True)
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def _pth_path() -> Path:
    return Path(sysconfig.get_paths()["purelib"]) / PTH_NAME


def up() -> None:
    """Bring the lab up (idempotent) and link the Ceph bindings into this Python."""
    proc = _run("up")
    if proc.returncode != 0:
        raise _failure("up", proc)
    pylib = lab_env().get("CERTKIT_LAB_PYLIB")
    if pylib:
        _pth_path().write_text(pylib + "\n")
        if pylib not in sys.path:
            sys.path.append(pylib)


def down() -> None:
    """Tear everything down; safe to run twice."""
    proc = _run("down")
    if proc.returncode != 0:
        raise _failure("down", proc)
    try:
        _pth_path().unlink()
    except FileNotFoundError:
        pass


def status() -> bool:
    """Print the lab's state; True when healthy."""
    return _run("status").returncode == 0


def can_run() -> str | None:
    """Why the lab cannot run on this machine (None when it can)."""
    if os.geteuid() != 0:
        return "the CephFS lab needs root (network namespaces, Debian packages)"
    if not Path("/usr/bin/apt-get").exists() and not Path("/usr/bin/ceph-mon").exists():
        return "the CephFS lab needs Debian's Ceph packages (apt-get not found)"
    return None
