"""Restart hygiene: a SIGKILL of the listener mid-build leaves an orphaned ansible tree and a
work directory; the next start kills the tree, then removes the directory. The logs and work
directories together stay under disk.max_mb, the oldest finished builds' logs going first."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from certkit.ci.config import load_ci_config, schema_default
from certkit.ci.diskspace import enforce_disk_limit
from certkit.ci.proctree import alive
from tests.ci.conftest import ROOT, git, make_source, wait_for, write_ci_config
from tests.ci.test_executor import _processes_with

HANG = """\
- hosts: all
  gather_facts: false
  tasks:
    - shell: "sleep 311.25 & setsid sleep 312.25 & sleep 313.25; wait"
"""


class Listen:
    """`certkit ci listen` in a subprocess whose output lines are collected."""

    def __init__(self, config: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "certkit.cli", "ci", "listen",
                                      "--config", str(config)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, cwd=ROOT)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout),
                                       daemon=True)
        self.reader.start()

    def wait_for(self, text: str, timeout: float = 120) -> None:
        wait_for(lambda: any(text in line for line in self.lines), timeout, text)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=60)
        self.reader.join(timeout=10)


def test_sigkill_mid_build_then_restart_kills_the_orphans_and_removes_the_work_dir(tmp_path,
                                                                                    gerrit):
    source = make_source(tmp_path / "src")
    gerrit.create_project("openstack/manila", source)
    jobs = tmp_path / "jobs"
    (jobs / ".git").mkdir(parents=True)
    (jobs / "zuul.yaml").write_text("- job: {name: hang, parent: null, run: hang.yaml}\n")
    (jobs / "hang.yaml").write_text(HANG)
    config = write_ci_config(tmp_path, gerrit, pipeline={
        "projects": [{"name": "openstack/manila"}], "jobs": ["hang"],
        "zuul_config": [str(jobs)]})
    work = tmp_path / "state" / "work"
    first = Listen(config)
    second = None
    try:
        first.wait_for("connected to")
        gerrit.wait_for_subscriber()
        (source / "README").write_text("change\n")
        git("commit", "-qam", "a change", cwd=source)
        gerrit.upload_patchset("openstack/manila", 5001, source)
        wait_for(lambda: _processes_with("313.25"), 120, "the playbook's processes")
        first.stop(signal.SIGKILL)
        orphans = _processes_with("313.25") + _processes_with("312.25")
        assert orphans, "the build's process tree survives the listener's SIGKILL"
        (interrupted,) = list(work.iterdir())
        second = Listen(config)
        second.wait_for("removed the work directory of interrupted build")
        assert not interrupted.exists()
        text = "".join(second.lines)
        assert text.index("killing the orphaned ansible-playbook tree") < \
            text.index(f"removed the work directory of interrupted build {interrupted.name}")
        assert not [pid for pid in orphans if alive(pid)]  # killed before the removal
        second.wait_for("re-queued 5001,1 (interrupted while running)")
    finally:
        first.stop(signal.SIGKILL)
        if second:
            second.stop()
    wait_for(lambda: not any(_processes_with(m) for m in ("311.25", "312.25", "313.25")), 10,
             "no sleep of the build left")
    assert gerrit.reviews() == []  # stopped before the build could finish: no vote


def _build_logs(root: Path, name: str, mib: int, age: float) -> Path:
    path = root / "logs" / "01" / "101" / "1" / "check" / "job" / name
    path.mkdir(parents=True)
    (path / "job-output.txt").write_bytes(b"x" * (mib * 2**20))
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def test_disk_bound_removes_the_oldest_finished_logs_first(tmp_path, caplog):
    oldest = _build_logs(tmp_path, "aaaaaaa", 2, 300)
    older = _build_logs(tmp_path, "bbbbbbb", 2, 200)
    running = _build_logs(tmp_path, "ccccccc", 2, 400)  # the oldest, but its build still runs
    newest = _build_logs(tmp_path, "ddddddd", 2, 100)
    (tmp_path / "work" / "ccccccc0123456789").mkdir(parents=True)
    removed = enforce_disk_limit(tmp_path, max_mb=5)
    assert removed == [oldest, older]
    assert running.exists() and newest.exists()
    assert enforce_disk_limit(tmp_path, max_mb=5) == []


def test_disk_bound_has_a_default_and_is_read_from_the_config(tmp_path, gerrit):
    assert load_ci_config(write_ci_config(tmp_path, gerrit)).disk_max_mb == \
        schema_default("disk", "max_mb") == 20480
    config = load_ci_config(write_ci_config(tmp_path, gerrit, disk={"max_mb": 100}))
    assert config.disk_max_mb == 100


@pytest.mark.parametrize("bad", [{"max_mb": 0}, {"max_gb": 1}])
def test_disk_bound_errors_name_the_key(tmp_path, gerrit, bad):
    from certkit.ci.config import CIConfigError

    with pytest.raises(CIConfigError, match=r"ci\.yaml: ci\.yaml\.disk"):
        load_ci_config(write_ci_config(tmp_path, gerrit, disk=bad))
