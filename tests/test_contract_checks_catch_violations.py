"""Every contract check is shown failing on a driver broken in exactly the way it targets,
while the unmodified DummyDriver passes it."""

from __future__ import annotations

import dataclasses

import pytest

from certkit.runner import run_certification
from tests import broken
from tests.conftest import with_timeouts


def _outcomes(report: dict) -> dict[tuple[str, str], str]:
    return {(c["name"], c.get("variant", "")): c["outcome"] for c in report["checks"]}


@pytest.fixture(scope="module")
def unmodified_report(dummy_profile):
    return run_certification(dummy_profile).report


def test_unmodified_dummy_driver_is_certified(unmodified_report):
    report = unmodified_report
    assert report["verdict"] == "certified", report["reasons"]
    assert report["summary"]["failed"] == report["summary"]["error"] == 0
    for fid in ("share", "snapshot", "create_from_snapshot", "extend", "shrink", "access_ip",
                "access_user", "access_ro"):
        assert report["features"][fid]["status"] == "verified", fid


BROKEN = broken.registry()


@pytest.mark.parametrize("driver_class", list(BROKEN), ids=lambda c: c.__name__)
def test_check_catches_broken_driver(driver_class, dummy_profile, unmodified_report):
    check, variant, expected = BROKEN[driver_class]
    reference, extra = broken.setting(driver_class)
    profile = with_timeouts(dummy_profile, status_poll=0.3, cleanup=1)
    profile = dataclasses.replace(profile, features=profile.features + extra)
    timeout = 1.0 if expected == "error" else None
    report = run_certification(profile, driver_class=driver_class, keyword=check,
                               check_timeout=timeout).report
    outcome = _outcomes(report).get((check, variant))
    assert outcome == expected, (check, variant, report["checks"])
    if reference is None:
        assert _outcomes(unmodified_report)[(check, variant)] == "passed"
    else:
        passing = run_certification(profile, driver_class=reference, keyword=check).report
        assert _outcomes(passing)[(check, variant)] == "passed", passing["checks"]
    assert report["verdict"] == "not-certified"
    failing = [c for c in report["checks"] if c["name"] == check and c.get("variant", "") == variant]
    assert failing[0]["message"], "a failing check explains itself"
    if getattr(driver_class, "leaves_leaks", False):
        assert report["leaks"], "what the broken driver cannot delete must be reported"
    else:
        assert not report["leaks"], report["leaks"]
