"""The wheel holds exactly what certkit needs at run time (its modules, the JSON Schemas, the
suites as `certkit.suites`, the lab's assets) and, installed into a fresh venv outside the
checkout, certifies the dummy profile.

To stay fast on two cores, the fresh venv gets certkit from the wheel only; its dependencies
(manila and friends, minutes to install) are borrowed from the project venv through a `.pth`
line, which puts that site-packages directory on sys.path without running its `.pth` files, so
the project's editable certkit stays invisible. That the wheel declares the same dependencies as
pyproject.toml is checked separately.
"""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import DUMMY_PROFILE, ROOT


def _run(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(args, cwd=cwd, env=env, text=True, capture_output=True, timeout=600,
                          check=False, **kwargs)


def _checkout_files() -> list[str]:
    """The files of the checkout (tracked, and new ones not ignored)."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot tell which files belong to the source tree")
    proc = _run(["git", "ls-files", "-co", "--exclude-standard", "-z"], ROOT)
    assert proc.returncode == 0, proc.stderr
    return [f for f in proc.stdout.split("\0") if f and (ROOT / f).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the checkout (building in place would litter it)."""
    src = tmp_path_factory.mktemp("src")
    for name in _checkout_files():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    proc = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                 "--disable-pip-version-check", "-w", str(dist), str(src)], src)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (built,) = dist.glob("certkit-*.whl")
    return built


def _runtime_files(top: str) -> set[str]:
    """Files under `top` in the checkout that are not byte code."""
    return {str(p.relative_to(ROOT)) for p in (ROOT / top).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")}


def test_wheel_holds_exactly_the_runtime_files(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = email.message_from_bytes(archive.read(next(
            n for n in names if n.endswith(".dist-info/METADATA"))))
    payload = {n for n in names if ".dist-info/" not in n}
    tops = {n.split("/")[0] for n in payload}
    assert tops == {"certkit"}, f"only the certkit package may be installed, got {sorted(tops)}"
    expected = _runtime_files("certkit") | {"certkit/" + f for f in _runtime_files("suites")}
    assert payload == expected, (f"missing: {sorted(expected - payload)}; "
                                 f"unexpected: {sorted(payload - expected)}")
    assert any(n.startswith("certkit/schemas/") and n.endswith(".schema.json") for n in payload)
    assert "certkit/suites/contract/test_shares.py" in payload
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    required = [r for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r]
    assert sorted(r.replace(" ", "") for r in required) == sorted(d.replace(" ", "") for d in declared)


def test_installed_wheel_certifies_the_dummy_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    proc = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    python = venv / "bin" / "python"
    proc = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                 "--no-deps", "--no-index", "--disable-pip-version-check", str(wheel)], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                tmp_path).stdout.strip()
    (Path(site) / "certkit-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy(DUMMY_PROFILE, work / "manila-dummy.yaml")
    where = _run([str(python), "-c", "import importlib.util, certkit, certkit.suites; "
                  "print(certkit.__file__); print(certkit.suites.__file__); "
                  "print(importlib.util.find_spec('suites'))"], work)
    assert where.returncode == 0, where.stderr
    certkit_file, suites_file, top_suites = where.stdout.split("\n")[:3]
    assert certkit_file.startswith(site) and suites_file.startswith(site), where.stdout
    assert top_suites == "None", "a top-level `suites` package must not be installed"

    run = _run([str(venv / "bin" / "certkit"), "run", "manila-dummy.yaml", "--report", "report.json"], work)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((work / "report.json").read_text())
    assert report["verdict"] == "certified", report["reasons"]
    assert report["summary"]["passed"] > 50 and report["summary"]["failed"] == 0
    assert {c["suite"] for c in report["checks"]} == {"contract"}
