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
    if not SCRIPT.exists():
        raise CertkitError(f"{SCRIPT}: the lab script is missing (run from a certkit checkout)")
    proc = subprocess.run(["bash", str(SCRIPT), action], text=True,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.PIPE if capture else None)
    return proc


def lab_env() -> dict[str, str]:
    """The lab's paths (ceph.conf, keyrings, client host) as environment variables."""
    proc = _run("env", capture=True)
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def _pth_path() -> Path:
    return Path(sysconfig.get_paths()["purelib"]) / PTH_NAME


def up() -> None:
    """Bring the lab up (idempotent) and link the Ceph bindings into this Python."""
    if _run("up").returncode != 0:
        raise CertkitError("lab up cephfs failed (see the lines above)")
    pylib = lab_env().get("CERTKIT_LAB_PYLIB")
    if pylib:
        _pth_path().write_text(pylib + "\n")
        if pylib not in sys.path:
            sys.path.append(pylib)


def down() -> None:
    """Tear everything down; safe to run twice."""
    if _run("down").returncode != 0:
        raise CertkitError("lab down cephfs failed (see the lines above)")
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
