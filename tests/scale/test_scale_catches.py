"""Each scale check is proven by a driver whose cost grows with N (or that fails at scale):
the check fails with the numbers, while the unmodified DummyDriver passes it."""

from __future__ import annotations

import pytest

from certkit.profile import load_profile
from certkit.runner import run_certification
from tests.scale import broken
from tests.scale.profiles import scale_profile

SMALL = {"target_shares": 240, "steps": [15, 60, 240], "rules_per_share": 40, "samples": 5,
         "concurrency": 1}
CASES = [
    (broken.StatsWalkEveryShare, "test_stats_cost_does_not_grow_with_n",
     "get_share_stats(refresh=True): cost grows with N"),
    (broken.EnsureSharesQuadratic, "test_restart_cost_is_at_most_linear",
     "ensure_shares over all N shares (restart): cost grows with N"),
    (broken.AccessSlowWithLongRuleLists, "test_access_rule_cost_does_not_grow[NFS-ip]",
     "cost grows with the rules on the share"),
]


def _run(tmp_path, driver_class=None):
    profile = load_profile(scale_profile(tmp_path, **SMALL))
    report = run_certification(profile, suites=["scale"], driver_class=driver_class,
                               audit=False).report
    checks = {c["name"] + (f"[{c['variant']}]" if c.get("variant") else ""): c
              for c in report["checks"]}
    return report, checks


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("reference"))


@pytest.mark.parametrize("driver_class,check,finding", CASES, ids=[c[0].__name__ for c in CASES])
def test_growing_cost_is_caught(tmp_path, reference, driver_class, check, finding):
    report, checks = _run(tmp_path, driver_class)
    assert checks[check]["outcome"] == "failed", checks[check]
    assert finding in checks[check]["message"] and "ms at N=" in checks[check]["message"] \
        or "rules or fewer" in checks[check]["message"], checks[check]["message"]
    assert any(finding in f for f in report["scale"]["findings"])
    # Growth is a finding, not a lost certificate: the target was still reached.
    assert checks["test_target_reached_without_errors"]["outcome"] == "passed"
    assert not report["leaks"]
    _, reference_checks = reference
    assert reference_checks[check]["outcome"] == "passed", reference_checks[check]


def test_a_back_end_limit_is_a_finding_with_numbers(tmp_path, reference):
    report, checks = _run(tmp_path, broken.CreateRefusedPastLimit)
    scale = report["scale"]
    assert scale["verified_shares"] == 60 and scale["reached_shares"] < 240
    assert not scale["complete"] and "volume limit of 150 reached" in scale["stopped"]
    required = checks["test_target_reached_without_errors"]
    assert required["outcome"] == "failed"
    assert "verified to N=60 of 240 shares" in required["message"]
    assert "create_share failed" in required["message"]
    assert report["verdict"] != "certified" and not report["leaks"]
    reference_report, reference_checks = reference
    assert reference_checks["test_target_reached_without_errors"]["outcome"] == "passed"
    assert reference_report["scale"]["verified_shares"] == 240
