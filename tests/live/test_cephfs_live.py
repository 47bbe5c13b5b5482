"""CephFS native through the live tier: Manila's CephFS driver inside real manila-share, against
the CephFS lab: create, cephx access (rw and ro), snapshot, extend, plus manila-tempest-plugin's
SharesCephFSTest. Needs root and the CephFS lab (`certkit lab up cephfs`); on a shared machine
two test processes take turns through tests/conftest.py's ceph_lab_lock.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.conftest import FIGURES, ROOT, ceph_lab_lock
from tests.live.test_live_tier import REQUIRED, _certkit

PROFILE = ROOT / "driver_profiles" / "cephfs-native.yaml"
SUBSET = r"manila_tempest_tests\.tests\.api\.test_shares\.SharesCephFSTest"
OWN_CHECKS = "not test_tempest and not restart or test_tempest"


@pytest.fixture(scope="module")
def cephfs_manila(tmp_path_factory):
    from certkit.lab.cephfs import CephFSLab

    reason = CephFSLab().can_run()
    if reason:
        if REQUIRED:
            pytest.fail(f"CERTKIT_REQUIRE_LAB=1 but {reason}")
        pytest.skip(reason)
    env = {**os.environ, "CERTKIT_MANILA_LAB_DIR": str(tmp_path_factory.mktemp("cephfs-manila") / "lab"),
           "CERTKIT_TEMPEST_REGEX": SUBSET}
    env.pop("OS_AUTH_URL", None)
    with ceph_lab_lock():
        up = _certkit("lab", "up", "cephfs", env=env, timeout=900)
        try:
            assert up.returncode == 0, up.stderr[-2000:]
            env.update(CephFSLab().env())  # the profile's ${CERTKIT_CEPH_CONF} and friends
            start = time.monotonic()
            proc = _certkit("lab", "up", "manila", "--profile", str(PROFILE), env=env)
            FIGURES["manila lab up for cephfs-native (cold)"] = f"{time.monotonic() - start:.1f} s"
            assert proc.returncode == 0, proc.stderr[-2000:]
            yield env
        finally:
            _certkit("lab", "down", "manila", env=env, timeout=300)
            _certkit("lab", "down", "cephfs", env=env, timeout=300)


def test_cephfs_native_create_access_snapshot_extend_through_manila(cephfs_manila, tmp_path):
    report_path = tmp_path / "cephfs-api.json"
    start = time.monotonic()
    proc = _certkit("run", str(PROFILE), "--suite", "api", "--no-audit", "-k", OWN_CHECKS,
                    "--report", str(report_path), env=cephfs_manila)
    FIGURES["certkit run --suite api (cephfs-native, subset)"] = f"{time.monotonic() - start:.1f} s"
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
