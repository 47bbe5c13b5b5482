"""certkit/pyinstall.py: uv installs when it is there, pip when uv is missing or fails, and a
failure of both is one line naming what was installed and the installer's error."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from certkit import pyinstall
from certkit.errors import CertkitError


def _tool(path: Path, log: Path, code: int, output: str) -> Path:
    """An executable that appends its argv to log, prints output and exits with code."""
    path.write_text(f"#!/bin/sh\necho \"$0 $*\" >> {log}\nprintf '%b\\n' {output!r}\nexit {code}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "calls.log"


def test_uv_installs_into_the_given_python_and_pip_is_not_run(tmp_path, log, monkeypatch):
    uv = _tool(tmp_path / "uv", log, 0, "")
    python = _tool(tmp_path / "python", log, 0, "")
    monkeypatch.setattr(pyinstall, "uv_binary", lambda: str(uv))
    assert pyinstall.install(python, ["manila==22.*", "-e", "/src"], what="t") == "uv"
    [call] = log.read_text().splitlines()
    assert call == f"{uv} pip install -q --compile-bytecode --python {python} manila==22.* -e /src"


def test_a_failing_uv_falls_back_to_pip_and_says_why(tmp_path, log, monkeypatch):
    uv = _tool(tmp_path / "uv", log, 2, "error: Failed to fetch: https://pypi.org/simple/x/")
    python = _tool(tmp_path / "python", log, 0, "")
    monkeypatch.setattr(pyinstall, "uv_binary", lambda: str(uv))
    said: list[str] = []
    assert pyinstall.install(python, ["x"], what="lab manila", progress=said.append) == "pip"
    assert log.read_text().splitlines()[1] == (
        f"{python} -m pip install -q --disable-pip-version-check x")
    assert said == ["lab manila: uv failed (error: Failed to fetch: https://pypi.org/simple/x/); "
                    "trying pip"]


def test_without_uv_pip_installs(tmp_path, log, monkeypatch):
    python = _tool(tmp_path / "python", log, 0, "")
    monkeypatch.setattr(pyinstall, "uv_binary", lambda: None)
    assert pyinstall.install(python, ["x"], what="t") == "pip"
    assert len(log.read_text().splitlines()) == 1


def test_both_failing_is_one_line_with_pips_error(tmp_path, log, monkeypatch):
    uv = _tool(tmp_path / "uv", log, 1, "error: no")
    python = _tool(tmp_path / "python", log, 1,
                   "Collecting x\nERROR: No matching distribution found for x\n")
    monkeypatch.setattr(pyinstall, "uv_binary", lambda: str(uv))
    with pytest.raises(CertkitError) as raised:
        pyinstall.install(python, ["x"], what="manila 22 venv")
    assert str(raised.value) == ("manila 22 venv: pip install failed: "
                                 "ERROR: No matching distribution found for x")


def test_uv_is_found_in_certkits_venv():
    found = pyinstall.uv_binary()
    assert found is not None and Path(found).is_file()
