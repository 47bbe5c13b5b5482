"""The manila lab's manila.conf from profiles: no Manila needed (fast)."""

from __future__ import annotations

import configparser
from pathlib import Path

from certkit.livestack.manila_services import PERIODIC_OPTIONS, lab_backends, manila_conf_text
from certkit.livestack.state import LabState
from certkit.profile import load_profile
from tests.conftest import DUMMY_PROFILE, ROOT


def conf_of(profile) -> configparser.ConfigParser:
    state = LabState.new(str(profile.path), profile.name, "unused", False)
    state.ports = {"rabbit": 1, "db": 2, "keystone": 3, "manila_api": 4}
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(manila_conf_text(Path("/tmp/lab"), state, profile))
    return parser


def test_replication_claim_adds_a_second_back_end_in_the_same_domain():
    profile = load_profile(DUMMY_PROFILE)
    conf = conf_of(profile)
    groups = conf["DEFAULT"]["enabled_share_backends"].split(",")
    assert groups == ["manila-dummy", "manila-dummy-target"]
    assert lab_backends(profile) == [conf[g]["share_backend_name"] for g in groups]
    assert {conf[g]["replication_domain"] for g in groups} == {"certkit-replication"}
    assert {conf[g]["share_driver"] for g in groups} == {profile.driver}


def test_no_replication_claim_one_back_end():
    profile = load_profile(ROOT / "driver_profiles" / "cephfs-native.yaml")
    conf = conf_of(profile)
    assert conf["DEFAULT"]["enabled_share_backends"] == "cephfs-native"
    assert lab_backends(profile) == ["cephfs-native"]
    assert not any(section.endswith("-target") for section in conf.sections())


def test_periodic_work_runs_every_ten_seconds():
    conf = conf_of(load_profile(DUMMY_PROFILE))
    assert {name: conf["DEFAULT"][name] for name in PERIODIC_OPTIONS} == dict.fromkeys(PERIODIC_OPTIONS, "10")


def test_the_plugin_release_follows_the_manila_cycle_it_was_released_for():
    from importlib import metadata

    from packaging.version import Version

    from certkit.livestack.install import PLUGIN_FOR_MANILA, plugin_release_for

    assert plugin_release_for("23.0.1") == "3.2.0" and plugin_release_for("22.0.2") == "3.0.0"
    assert plugin_release_for("24.0.0") == PLUGIN_FOR_MANILA[max(PLUGIN_FOR_MANILA)]
    assert plugin_release_for("17.4.0") is None
    releases = [Version(PLUGIN_FOR_MANILA[m]) for m in sorted(PLUGIN_FOR_MANILA)]
    assert releases == sorted(releases)
    # what this venv runs: at least the release of its Manila's cycle (`lab up` upgrades otherwise)
    wanted = plugin_release_for(metadata.version("manila"))
    assert wanted is None or Version(metadata.version("manila-tempest-plugin")) >= Version(wanted)


def test_manila_share_starts_privsep_helper_from_the_venv_without_sudo():
    """The real manila-share (unlike certkit's in-process harness) starts oslo.privsep's helper:
    as root the lab names the venv's privsep-helper and its manila.conf, no sudo."""
    import os
    import shlex

    from certkit.manila_env import scripts_dir

    conf = conf_of(load_profile(ROOT / "driver_profiles" / "glusterfs-directory-mapped-layout.yaml"))
    if os.geteuid() != 0:
        assert "manila_sys_admin" not in conf
        return
    argv = shlex.split(conf["manila_sys_admin"]["helper_command"])
    assert argv == [str(scripts_dir() / "privsep-helper"), "--config-file", "/tmp/lab/manila/manila.conf"]
    assert os.access(argv[0], os.X_OK)


PRIVSEP_PROBE = """
import os, sys
from certkit.manila_env import parse_conf
parse_conf([sys.argv[1]])
from manila import privsep
from manila.privsep import os as privsep_os
privsep_os.mkdir(sys.argv[2])  # through the helper: this process has no daemon of its own
channel = privsep.sys_admin_pctxt.channel
print(os.path.isdir(sys.argv[2]), channel is not None)
"""


def test_the_lab_privsep_helper_starts_and_runs_manila_privileged_steps(tmp_path):
    """manila-share's first privileged step (the GlusterFS layout's mkdir) through the helper
    the lab configures: oslo.privsep starts it from the venv, no sudo, and it runs the step."""
    import os
    import subprocess
    import sys

    from certkit.livestack.manila_services import privsep_sections

    if os.geteuid() != 0:
        import pytest
        pytest.skip("the lab configures the helper for root only")
    conf = tmp_path / "manila.conf"
    helper = privsep_sections(conf)["manila_sys_admin"]["helper_command"]
    conf.write_text(f"[DEFAULT]\n[manila_sys_admin]\nhelper_command = {helper}\n")
    made = tmp_path / "made-by-the-helper"
    env = {**os.environ, "PATH": "/usr/bin:/bin"}  # no venv on PATH, as sudo's secure_path
    proc = subprocess.run([sys.executable, "-c", PRIVSEP_PROBE, str(conf), str(made)], env=env,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.split() == ["True", "True"], proc.stderr[-2000:]


def _half_installed_keystone_venv(venv: Path) -> Path:
    """A Keystone venv as a SIGKILLed pip leaves it: every script written (what the old check
    looked at), gunicorn complete, keystone's files and metadata there but no RECORD yet."""
    site = venv / "lib" / "python3.11" / "site-packages"
    for script in ("keystone-manage", "gunicorn"):
        (venv / "bin").mkdir(parents=True, exist_ok=True)
        (venv / "bin" / script).write_text("#!/bin/sh\n")
    for name, record in (("gunicorn-27.0.1", True), ("keystone-30.0.0", False), ("pymysql-1.2.4", True)):
        info = site / f"{name}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Name: {name.rsplit('-', 1)[0]}\n")
        if record:
            (info / "RECORD").write_text("")
    (site / "keystone").mkdir()
    return site


def test_a_venv_pip_was_killed_in_is_not_taken_for_installed(tmp_path):
    """A half-installed package (files and scripts, no RECORD) counts as missing, and its
    RECORD-less dist-info is removed so that pip installs it again instead of skipping it."""
    from certkit.livestack import install

    venv = tmp_path / "keystone-venv"
    site = _half_installed_keystone_venv(venv)
    assert not install.keystone_venv_complete(venv)
    assert install.installed_completely(site, "gunicorn")
    assert install.installed_completely(site, "PyMySQL")  # dist-info names are normalised
    assert not install._drop_if_half_installed(site, "keystone")
    assert not (site / "keystone-30.0.0.dist-info").exists()
    info = site / "Keystone-30.0.0.dist-info"
    info.mkdir()
    (info / "RECORD").write_text("")
    assert install.keystone_venv_complete(venv)
    assert install._drop_if_half_installed(site, "keystone") and info.exists()
