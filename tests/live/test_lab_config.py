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
