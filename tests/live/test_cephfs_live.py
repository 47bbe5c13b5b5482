"""CephFS native through the live tier: Manila's CephFS driver inside real manila-share, against
the CephFS lab: create, cephx access (rw and ro), snapshot, extend, plus manila-tempest-plugin's
SharesCephFSTest, and the live data-path checks (shares made through the API, mounted from the
lab's client host), which catch a driver the API-state checks pass. Needs root and the CephFS
lab, shared with the other CephFS modules of the process (tests/conftest.py ClientHostLabs, which
holds the client-host lock while it is up).
"""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.conftest import FIGURES, ROOT, client_workdir_left, run_certkit
from tests.live.timed import switch_lab, timed_certkit

PROFILE = ROOT / "driver_profiles" / "cephfs-native.yaml"
SUBSET = r"manila_tempest_tests\.tests\.api\.test_shares\.SharesCephFSTest"
OWN_CHECKS = "not test_tempest and not restart or test_tempest"
DATAPATH_CHECKS = {"test_api_rules_let_the_client_in_and_keep_shares_apart",
                   "test_api_ro_rule_reads_and_cannot_write", "test_api_deny_locks_the_client_out",
                   "test_api_extend_keeps_the_data"}
CEPHX_KEY = re.compile(r"AQ[A-Za-z0-9+/]{38}==")
"""What a cephx secret looks like: none may reach a report or the output."""


@pytest.fixture(scope="module")
def cephfs_manila(tmp_path_factory, client_host_labs):
    from certkit.lab.cephfs import CephFSLab

    # The CephFS lab this process shares with tests/test_lab.py and the other CephFS modules
    # (one `lab up` for all of them, under the client-host lock; skips without root and Ceph, fails
    # then under CERTKIT_REQUIRE_LAB=1).
    client_host_labs.use(CephFSLab, "CephFS lab up (packages, cluster, client host, Ganesha)")
    env = {**os.environ, "CERTKIT_MANILA_LAB_DIR": str(tmp_path_factory.mktemp("cephfs-manila") / "lab"),
           "CERTKIT_TEMPEST_REGEX": SUBSET}
    env.pop("OS_AUTH_URL", None)
    up = run_certkit("lab", "up", "cephfs", env=env, timeout=900)  # the command, on the running lab
    assert up.returncode == 0, up.stderr[-2000:]
    env.update(CephFSLab().env())  # the profile's ${CERTKIT_CEPH_CONF} and friends
    try:
        proc = timed_certkit("manila lab up for cephfs-native (cold)",
                             "lab", "up", "manila", "--profile", str(PROFILE), env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        yield env
    finally:
        run_certkit("lab", "down", "manila", env=env, timeout=300)


def test_cephfs_native_create_access_snapshot_extend_through_manila(cephfs_manila, tmp_path):
    report_path = tmp_path / "cephfs-api.json"
    proc = timed_certkit("certkit run --suite api (cephfs-native, subset)",
                         "run", str(PROFILE), "--suite", "api", "--no-audit", "-k", OWN_CHECKS,
                         "--report", str(report_path), env=cephfs_manila)
    assert report_path.exists(), proc.stderr[-2000:]
    checks = json.loads(report_path.read_text())["checks"]
    ran = {(c["name"], c.get("variant", "")): c for c in checks}
    bad = [f"{n}[{v}]: {c['outcome']}: {c['message']}" for (n, v), c in ran.items()
           if c["outcome"] in ("failed", "error")]
    assert not bad, bad
    access = [c for (n, _), c in ran.items() if n == "test_access_rules_reach_active"]
    assert {c["variant"] for c in access} == {"CEPHFS-cephx-rw", "CEPHFS-cephx-ro"}
    assert all(c["outcome"] == "passed" for c in access)
    assert ran[("test_export_locations_and_snapshots_survive_the_manager", "")]["outcome"] == "passed"
    tempest = [c for (n, _), c in ran.items() if n == "test_tempest"]
    assert any(c["outcome"] == "passed" and c["id"] == "21ad41fb-04cf-493c-bc2f-66c80220898b"
               for c in tempest), tempest
    datapath = {n: c for (n, _), c in ran.items() if n in DATAPATH_CHECKS}
    assert set(datapath) == DATAPATH_CHECKS and all(c["outcome"] == "passed" for c in datapath.values()), datapath
    FIGURES["live data-path checks (cephfs-native, 4 checks)"] = \
        f"{sum(c['duration'] for c in datapath.values()):.1f} s"
    _nothing_left(report_path, proc)


def _nothing_left(report_path, proc) -> None:
    """No leaks, no cephx secret in the report or the output, no keyring on the client host."""
    from certkit.lab.cephfs import CephFSLab

    report = json.loads(report_path.read_text())
    assert report["leaks"] == [], report["leaks"]
    assert not CEPHX_KEY.search(report_path.read_text() + proc.stdout + proc.stderr)
    assert not client_workdir_left(CephFSLab(), report["run_id"]), "the run left its keyrings on the client"


def test_driver_with_unauthorised_keys_is_caught_only_by_the_live_data_path(cephfs_manila, tmp_path):
    """A driver whose update_access returns a key for each cephx rule without authorising the
    identity: its rules reach `active` (the API-state check passes), and no client can mount."""
    profile = tmp_path / "broken.yaml"
    profile.write_text(PROFILE.read_text()
                       .replace("name: cephfs-native", "name: cephfs-native-unauthorised-keys")
                       .replace("driver: manila.share.drivers.cephfs.driver.CephFSDriver",
                                "driver: tests.broken_cephfs.KeysWithoutAuthorization"))
    switch_lab("manila lab: switch cephfs-native to a broken CephFS driver", profile, cephfs_manila)
    report_path = tmp_path / "broken.json"
    proc = timed_certkit("certkit run --suite api (broken CephFS driver, 2 checks)",
                         "run", str(profile), "--suite", "api", "--no-audit", "--report", str(report_path),
                         "-k", "test_api_rules_let_the_client_in or test_access_rules_reach_active and rw",
                         env=cephfs_manila)
    assert report_path.exists(), proc.stderr[-2000:]
    checks = json.loads(report_path.read_text())["checks"]
    assert json.loads(report_path.read_text())["driver"] == "tests.broken_cephfs.KeysWithoutAuthorization"
    states = [c for c in checks if c["name"] == "test_access_rules_reach_active"]
    assert [(c["variant"], c["outcome"]) for c in states] == [("CEPHFS-cephx-rw", "passed")], states
    [mounts] = [c for c in checks if c["name"] == "test_api_rules_let_the_client_in_and_keep_shares_apart"]
    assert mounts["outcome"] == "failed", mounts
    assert "did not allow a mount" in mounts["message"], mounts
    _nothing_left(report_path, proc)
