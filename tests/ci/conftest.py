"""Fixtures for the CI tests: the Gerrit double, a Manila "change" repository, ci.yaml."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

import manila
from tests.ci.gerrit_double import CI_ACCOUNT, GerritDouble

ROOT = Path(__file__).resolve().parents[2]
# Of manila/tests only what the dummy profile imports: the rest (about 20 MB) is not needed to
# certify the DummyDriver and only slows the copy and the install of the change.
KEEP_TESTS = ("__init__.py", "share/__init__.py", "share/drivers/__init__.py",
              "share/drivers/dummy.py")


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture(scope="session")
def manila_source(tmp_path_factory) -> Path:
    """A git work tree whose content is the installed Manila package (a real, installable
    source tree) at a base commit on master; tests add commits and upload them as changes."""
    return build_manila_source(tmp_path_factory.mktemp("manila-src"))


def build_manila_source(root: Path) -> Path:
    """The manila_source tree in `root` (also used by benchmarks/zuul_lab.py)."""
    installed = Path(manila.__file__).parent
    shutil.copytree(installed, root / "manila",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests"))
    for rel in KEEP_TESTS:
        (root / "manila" / "tests" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(installed / "tests" / rel, root / "manila" / "tests" / rel)
    version = importlib.metadata.version("manila")
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "manila"
        version = "{version}.post1"
        requires-python = ">=3.10"

        [tool.setuptools.packages.find]
        include = ["manila*"]
        """))
    git("init", "-q", "-b", "master", cwd=root)
    git("config", "user.email", "jane@example.org", cwd=root)
    git("config", "user.name", "Jane Developer", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "Manila as released", cwd=root)
    return root


def commit_change(source: Path, subject: str, marker: str, version: str | None = None) -> str:
    """A new commit on source (the change's patch set); returns its sha."""
    (source / "manila" / "certkit_change_marker.py").write_text(f"MARKER = {marker!r}\n")
    if version:
        text = (source / "pyproject.toml").read_text()
        import re

        (source / "pyproject.toml").write_text(re.sub(r'(?m)^version = ".*"$',
                                                      f'version = "{version}"', text))
    git("add", "-A", cwd=source)
    git("commit", "-q", "-m", subject, cwd=source)
    return git("rev-parse", "HEAD", cwd=source).strip()


@pytest.fixture
def gerrit(tmp_path):
    """A running Gerrit double with the CI account's key and known_hosts written."""
    double = GerritDouble(tmp_path / "gerrit")
    double.add_account(CI_ACCOUNT["username"], tmp_path / "ci_key")
    double.write_known_hosts(tmp_path / "known_hosts")
    yield double
    double.stop()


def write_ci_config(tmp_path: Path, double: GerritDouble, **overrides) -> Path:
    """A ci.yaml for the double; overrides replace top-level sections (deep for dicts)."""
    config = {
        "gerrit": {"host": "127.0.0.1", "port": double.port, "username": CI_ACCOUNT["username"],
                   "key_file": str(tmp_path / "ci_key"),
                   "known_hosts": str(tmp_path / "known_hosts"), "git_url": double.git_url,
                   "canonical_hostname": "review.example.org", "connect_timeout": 5},
        "pipeline": {"name": "check", "projects": [{"name": "openstack/manila"}],
                     "jobs": ["noop"], "concurrency": 2},
        "report": {"mode": "vote",
                   "log_url": "https://logs.acme.example/{change_mod}/{change}/{patchset}/"
                              "{pipeline}/{job}/{build_short}/"},
        "state_dir": str(tmp_path / "state"),
        "backoff": {"initial": 0.2, "max": 1.0},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        elif value is None:
            config.pop(key, None)
        else:
            config[key] = value
    path = tmp_path / "ci.yaml"
    path.write_text(yaml.safe_dump(config))
    return path
