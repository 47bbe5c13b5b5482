"""Fixtures for the CI tests: the Gerrit double, a Manila "change" repository, ci.yaml."""

from __future__ import annotations

import importlib.metadata
import threading
import time
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

import manila
from certkit.ci.config import load_ci_config
from certkit.ci.executor import BuildResult
from certkit.ci.listener import Listener
from certkit.ci.gerritdouble import CI_ACCOUNT, GerritDouble

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


def make_source(root: Path) -> Path:
    """A one-file git repository on master: a small project to upload changes of."""
    root.mkdir(parents=True)
    git("init", "-q", "-b", "master", cwd=root)
    git("config", "user.email", "jane@example.org", cwd=root)
    git("config", "user.name", "Jane", cwd=root)
    (root / "README").write_text("base\n")
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "base", cwd=root)
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


class Runner:
    """Records job requests; results by change number; can hold builds until released."""

    def __init__(self) -> None:
        self.requests: list = []
        self.results: dict[int, str] = {}
        self.hold = threading.Event()
        self.hold.set()
        self.running = 0
        self.max_running = 0
        self._lock = threading.Lock()

    def __call__(self, request):
        with self._lock:
            self.requests.append(request)
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        try:
            while not self.hold.wait(0.05):
                if request.cancel.is_set():
                    return BuildResult(job=request.job, build=request.build, result="ABORTED",
                                       log_dir=request.log_root, started_at="", duration=1.0)
            result = self.results.get(request.change.number, "SUCCESS")
            return BuildResult(job=request.job, build=request.build, result=result,
                               log_dir=request.log_root, started_at="", duration=182.0)
        finally:
            with self._lock:
                self.running -= 1


def zuul_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "jobs"
    (repo / ".git").mkdir(parents=True)
    (repo / "zuul.yaml").write_text("- job: {name: noop, parent: null, run: noop.yaml}\n"
                                    "- job: {name: other, parent: null, run: noop.yaml}\n")
    (repo / "noop.yaml").write_text("- hosts: all\n  tasks: []\n")
    return repo


@pytest.fixture
def start(tmp_path, gerrit, manila_source):
    """Start a listener thread for the double; returns (listener, runner)."""
    gerrit.create_project("openstack/manila", manila_source)
    started = []

    def _start(runner=None, **overrides):
        overrides.setdefault("pipeline", {})
        overrides["pipeline"] = {"name": "check", "projects": [{"name": "openstack/manila"}],
                                 "jobs": ["noop"], "concurrency": 2,
                                 "zuul_config": [str(zuul_repo(tmp_path))], **overrides["pipeline"]}
        config = load_ci_config(write_ci_config(tmp_path, gerrit, **overrides))
        runner = runner or Runner()
        listener = Listener(config, runner=runner)
        thread = threading.Thread(target=listener.serve_forever, daemon=True)
        thread.start()
        started.append((listener, thread))
        return listener, runner

    yield _start
    for listener, thread in started:
        listener.stop()
        thread.join(timeout=30)
        listener.queue.close()


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def upload(gerrit, source: Path, change: int, **kw):
    commit_change(source, kw.pop("subject", f"Change {change}"), f"{change}-{time.time()}")
    return gerrit.upload_patchset("openstack/manila", change, source, **kw)
