"""The dummy profile certifies against the newest Manila (the project venv) and against one older
maintained release, in a second venv built (once, then reused) under .venv-manila-<series>/."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from certkit import pyinstall
from certkit.errors import CertkitError
from tests.conftest import DUMMY_PROFILE, FIGURES, ROOT, timed

OLDER_RELEASE = os.environ.get("CERTKIT_OLDER_MANILA", "22")
"""Manila major version of the older maintained series (22 = 2026.1 Gazpacho)."""


def _older_venv() -> Path:
    """A venv with manila==<OLDER_RELEASE>.* and certkit (editable); rebuilt when pyproject.toml or setup.py changes."""
    venv = ROOT / f".venv-manila-{OLDER_RELEASE}"
    stamp = venv / "certkit-stamp"
    want = hashlib.sha256(b"".join((ROOT / name).read_bytes()
                                   for name in ("pyproject.toml", "setup.py"))).hexdigest()
    if stamp.exists() and stamp.read_text() == want and (venv / "bin" / "certkit").exists():
        return venv
    try:
        python = pyinstall.create_venv(venv, sys.executable, what=f"manila {OLDER_RELEASE} venv")
        pyinstall.install(python, [f"manila=={OLDER_RELEASE}.*", "-e", str(ROOT)],
                          what=f"manila {OLDER_RELEASE} venv", compile_bytecode=False)  # used once
    except CertkitError as error:
        pytest.fail(f"cannot build the manila {OLDER_RELEASE} venv: {error}")
    stamp.write_text(want)
    return venv


def _certify(certkit: Path, tmp_path: Path) -> dict:
    report_path = tmp_path / "report.json"
    proc = subprocess.run([str(certkit), "run", str(DUMMY_PROFILE), "--report", str(report_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(report_path.read_text())
    FIGURES[f"dummy certification on manila {report['manila_version']}"] = (
        f"{report['duration']:.2f} s suite, {report['summary']['passed']} checks passed, "
        f"verdict {report['verdict']}")
    return report


def test_dummy_certified_on_the_newest_manila(tmp_path):
    report = _certify(ROOT / ".venv" / "bin" / "certkit", tmp_path)
    assert report["manila_version"] == version("manila")
    assert report["verdict"] == "certified"
    assert all(f["status"] == "verified" for f in report["features"].values() if f["claimed"])


def test_dummy_certified_on_an_older_maintained_manila(tmp_path):
    with timed(f"manila {OLDER_RELEASE} venv (built or reused)"):
        venv = _older_venv()
    report = _certify(venv / "bin" / "certkit", tmp_path)
    assert report["manila_version"].split(".")[0] == OLDER_RELEASE
    assert report["manila_version"] != version("manila")
    assert report["verdict"] == "certified"
    assert all(f["status"] == "verified" for f in report["features"].values() if f["claimed"])
