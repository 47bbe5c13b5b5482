"""The verdict rules: verified only when every required check passed; skips never certify."""

from __future__ import annotations

import pytest

from certkit.contract.checks import check
from certkit.report import feature_status
from certkit.runner import run_certification
from certkit.session import CheckResult
from tests.broken.lifecycle import VendorStatsKey


def _r(outcome: str, level: str = "required") -> CheckResult:
    return CheckResult(id="x", name="test_x", feature="snapshot", level=level, outcome=outcome,
                       duration=0.0, message="why")


@pytest.mark.parametrize("results,status", [
    ([_r("passed"), _r("passed")], "verified"),
    ([_r("passed"), _r("failed")], "failed"),
    ([_r("passed"), _r("error")], "failed"),
    ([_r("passed"), _r("skipped")], "unverified"),
    ([_r("passed", "recommended")], "unverified"),
    ([_r("passed"), _r("failed", "recommended")], "verified"),
    ([], "unverified"),
])
def test_feature_status(results, status):
    assert feature_status(True, results)[0] == status
    assert feature_status(False, results)[0] == "not-claimed"


def test_check_marker_rejects_bad_ids_and_features():
    with pytest.raises(ValueError, match="canonical"):
        check("not-a-uuid", "share")
    with pytest.raises(ValueError, match="unknown feature"):
        check("0b0b3c52-8f43-4c5e-9a43-4d6b1a2f9e11", "teleport")
    with pytest.raises(ValueError, match="level"):
        check("0b0b3c52-8f43-4c5e-9a43-4d6b1a2f9e11", "share", level="optional")


def test_unknown_stats_key_is_a_warning_not_a_failure(dummy_profile):
    report = run_certification(dummy_profile, driver_class=VendorStatsKey,
                               keyword="test_stats_match_schema").report
    assert [c["outcome"] for c in report["checks"]] == ["passed"]
    assert any("acme_turbo_mode" in w for w in report["warnings"]), report["warnings"]


def test_unclaimed_features_are_skipped_with_reason(dummy_profile):
    import dataclasses

    profile = dataclasses.replace(dummy_profile, features=("share",))
    report = run_certification(profile, keyword="snapshot").report
    snapshot_checks = [c for c in report["checks"] if c["feature"] == "snapshot"]
    assert snapshot_checks and all(c["outcome"] == "skipped" for c in snapshot_checks)
    assert "not claimed" in snapshot_checks[0]["message"]
    assert report["features"]["snapshot"]["status"] == "not-claimed"


def test_every_check_has_its_own_uuid():
    import importlib
    import pkgutil

    import suites
    from certkit.contract.checks import MARK

    seen: dict[str, str] = {}
    for info in pkgutil.walk_packages(suites.__path__, "suites."):
        if not info.name.rsplit(".", 1)[-1].startswith("test_"):
            continue
        module = importlib.import_module(info.name)
        for name, func in vars(module).items():
            for mark in getattr(func, "pytestmark", []):
                if mark.name == MARK:
                    uid = mark.args[0].id
                    assert uid not in seen, f"{info.name}.{name} reuses the UUID of {seen[uid]}"
                    seen[uid] = f"{info.name}.{name}"
    assert len(seen) >= 18
