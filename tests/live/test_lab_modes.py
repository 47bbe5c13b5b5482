"""`certkit lab up manila --dhss`: the mode is checked before anything starts (no lab needed),
and manila.conf gets a share-server network plugin only in DHSS=True mode."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest

from certkit.errors import CertkitError
from certkit.livestack.manila_services import manila_conf_text
from certkit.livestack.network import ADMIN_GROUP, STANDALONE
from certkit.livestack.stack import lab_mode
from certkit.livestack.state import LabState
from certkit.profile import load_profile
from tests.conftest import DUMMY_PROFILE, ROOT

CEPHFS = ROOT / "driver_profiles" / "cephfs-native.yaml"


def _lab_up(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["CERTKIT_MANILA_LAB_DIR"] = str(tmp_path / "lab")
    return subprocess.run([sys.executable, "-m", "certkit.cli", "lab", "up", "manila", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args,message", [
    (("--profile", str(DUMMY_PROFILE), "--dhss", "maybe"),
     "certkit: error: lab up manila: --dhss: 'maybe' is not true or false"),
    (("--profile", str(CEPHFS), "--dhss", "true"),
     f"certkit: error: {CEPHFS}: driver_handles_share_servers lists false, not true"),
])
def test_a_mode_the_profile_does_not_list_is_one_line_before_anything_starts(tmp_path, args, message):
    proc = _lab_up(tmp_path, *args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), proc.stderr
    assert not (tmp_path / "lab").exists()


def test_lab_mode_defaults_to_the_first_listed():
    dummy = load_profile(DUMMY_PROFILE, check_import=False)
    assert (lab_mode(dummy, None), lab_mode(dummy, True), lab_mode(dummy, False)) == (False, True, False)
    with pytest.raises(CertkitError, match="driver_handles_share_servers lists false, not true"):
        lab_mode(load_profile(CEPHFS, check_import=False), True)


@pytest.mark.parametrize("dhss", [False, True])
def test_manila_conf_has_a_network_plugin_only_for_share_servers(tmp_path, dhss):
    profile = load_profile(DUMMY_PROFILE, check_import=False)
    state = LabState.new(str(profile.path), profile.name, "manila-dummy", dhss)
    state.ports = {p: 1 for p in ("db", "rabbit", "keystone", "manila_api")}
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_string(manila_conf_text(tmp_path, state, profile))
    group, replica = conf["DEFAULT"]["enabled_share_backends"].split(",")  # the dummy claims replication
    assert replica == f"{group}-target"
    assert conf[group]["share_backend_name"] == "manila-dummy"
    for name in (group, replica):
        assert conf[name]["driver_handles_share_servers"] == str(dhss)
        if dhss:
            assert conf[name]["network_api_class"] == STANDALONE
            assert conf[name]["admin_network_config_group"] == ADMIN_GROUP
            assert conf[name]["standalone_network_plugin_gateway"] != \
                conf[ADMIN_GROUP]["standalone_network_plugin_gateway"]
        else:
            assert "network_api_class" not in conf[name] and ADMIN_GROUP not in conf
    if dhss:
        assert conf[ADMIN_GROUP]["network_api_class"] == STANDALONE


def test_database_choice_is_checked_before_anything_starts_and_kept_until_down(tmp_path):
    bad = _lab_up(tmp_path, "--profile", str(DUMMY_PROFILE), "--db", "sqlite")
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "certkit: error: lab up manila: --db: 'sqlite' is not mariadb or postgresql"], bad.stderr
    assert not (tmp_path / "lab").exists()
    from certkit.livestack.state import save_state

    profile = load_profile(DUMMY_PROFILE, check_import=False)
    save_state(tmp_path / "lab", LabState.new(str(profile.path), profile.name, "manila-dummy", False,
                                              "postgresql"))
    other = _lab_up(tmp_path, "--profile", str(DUMMY_PROFILE), "--db", "mariadb")
    lines = other.stderr.strip().splitlines()
    assert other.returncode == 2 and len(lines) == 1, other.stderr
    assert lines[0].startswith("certkit: error: lab up manila failed: lab manila in ")
    assert lines[0].endswith("runs postgresql, not mariadb: run `certkit lab down manila` before "
                             "`up --db mariadb` (the databases are not copied)")
    assert sorted(p.name for p in (tmp_path / "lab").iterdir()) == ["state.json"]  # nothing started
