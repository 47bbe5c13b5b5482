"""Manila's CephFS driver at scale on the real single-node Ceph of the lab: 200 subvolumes in
CI (benchmarks/scale_cephfs.py goes to 2,000), and nothing left on the cluster afterwards.

Needs root and Debian's Ceph packages; skips with one line otherwise, but fails when
CERTKIT_REQUIRE_LAB=1 (CI sets it through .ci/run). While developing, hold the lab lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, timed
from tests.scale.profiles import scale_profile
from tests.test_lab import lab  # noqa: F401 - the lab fixture: up (or skip/fail), then down

N = 200


def _subvolumes(env: dict[str, str]) -> list[str]:
    """Subvolumes on the lab's CephFS volume, asked of the cluster itself."""
    conf = Path(env["CERTKIT_CEPH_CONF"])
    out = subprocess.run(["ceph", "-c", str(conf), "-k", str(conf.parent / "client.admin.keyring"),
                          "fs", "subvolume", "ls", "cephfs", "--format", "json"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [entry["name"] for entry in json.loads(out or "[]")]


def test_cephfs_driver_at_200_subvolumes(lab, tmp_path):  # noqa: F811 - the imported fixture
    before = _subvolumes(lab.env())
    # One subvolume command at a time: the lab's single mgr serialises them and Manila's CephFS
    # driver gives each 10 s (RADOS_TIMEOUT), which three at once overran in CI beside the live tier.
    profile = scale_profile(tmp_path, "cephfs-native.yaml", target_shares=N, steps=[50, N],
                            rules_per_share=20, samples=5, concurrency=1)
    report_path = tmp_path / "report.json"
    with timed(f"scale: CephFS to {N} subvolumes", digits=0) as watch:
        proc = subprocess.run(
            [sys.executable, "-m", "certkit.cli", "run", str(profile), "--no-audit", "--suite", "scale",
             "--report", str(report_path)],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
            timeout=1200)
        assert report_path.exists(), proc.stderr[-3000:]
        report = json.loads(report_path.read_text())
        scale = report["scale"]
        checks = {c["name"]: c for c in report["checks"]}
        assert checks["test_target_reached_without_errors"]["outcome"] == "passed", \
            checks["test_target_reached_without_errors"]["message"]
        assert scale["verified_shares"] == N and scale["complete"], scale["findings"]
        assert scale["protocol"] == "CEPHFS" and scale["access_type"] == "cephx"
        for name in ("create_share", "delete_share", "create_snapshot", "delete_snapshot",
                     "update_access_add", "update_access_remove", "get_share_stats", "ensure_shares"):
            assert scale["operations"][name]["points"] == 2, (name, scale["operations"].get(name))
        assert scale["teardown"]["shares"] == N
        if scale["teardown"]["errors"]:  # the lab's mgr times out `fs subvolume rm` under load
            assert any(f.startswith("delete_share while deleting") for f in scale["findings"])
        assert not report["leaks"], report["leaks"]
        assert sorted(_subvolumes(lab.env())) == sorted(before), "subvolumes left on the cluster"
        last = scale["step_results"][-1]["operations"]
        watch.note = (
            f"; at N={N}: create p50 {last['create_share']['p50'] * 1000:.0f} ms "
            f"p95 {last['create_share']['p95'] * 1000:.0f} ms, ensure_shares "
            f"{last['ensure_shares']['p50']:.1f} s, teardown {scale['teardown']['seconds']:.0f} s "
            f"({scale['teardown']['errors']} delete errors retried)")
