"""The verdict rules: verified only when every required check passed; skips never certify; a run
that did not execute every check its claims require is never certified (filter, crash, missing
checks, a hung driver)."""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import re
import threading
import uuid

import pytest

import suites
from certkit.contract.checks import MARK, PER_TEST_MARK, CheckInfo, check
from certkit.plugin import hooks
from certkit.plugin.hooks import check_timeout
from certkit.report import validate_report
from certkit.runner import run_certification
from certkit.schema_check import schema_errors
from certkit.session import CertificationRun, CheckResult
from certkit.verdict import VERDICTS, RunFacts, describe, feature_status, judge, scope_of
from tests import hostile_drivers
from tests.broken.lifecycle import VendorStatsKey
from tests.conftest import with_timeouts


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
    profile = dataclasses.replace(dummy_profile, features=("share",))
    report = run_certification(profile, keyword="snapshot").report
    snapshot_checks = [c for c in report["checks"] if c["feature"] == "snapshot"]
    assert snapshot_checks and all(c["outcome"] == "skipped" for c in snapshot_checks)
    assert "not claimed" in snapshot_checks[0]["message"]
    assert report["features"]["snapshot"]["status"] == "not-claimed"


def _facts(**overrides) -> RunFacts:
    features = {"share": {"claimed": True, "status": "verified"}}
    return RunFacts(**{"results": [_r("passed")], "features": features, **overrides})


@pytest.mark.parametrize("overrides,verdict", [
    ({}, "certified"),
    ({"keyword": "extend", "deselected": 80}, "partial"),
    ({"pytest_exit": 3, "internal_errors": ["INTERNALERROR> boom"]}, "partial"),
    ({"pytest_exit": 5, "results": []}, "partial"),
    ({"pytest_exit": None}, "partial"),
    ({"not_run": 2}, "partial"),
    ({"collection_errors": ["suites/contract/test_x.py: SyntaxError"]}, "partial"),
    ({"keyword": "extend", "results": [_r("failed")],
      "features": {"share": {"claimed": True, "status": "failed"}}}, "not-certified"),
    ({"stop_reason": "check test_x did not return within 60 s", "pytest_exit": 2, "not_run": 70},
     "not-certified"),
    ({"interrupted": True, "pytest_exit": 2}, "not-certified"),
    ({"leaks": 1}, "not-certified"),
    ({"features": {"share": {"claimed": True, "status": "unverified"}}}, "not-certified"),
    ({"keyword": "x", "features": {"share": {"claimed": True, "status": "unverified"}}}, "partial"),
])
def test_verdict_rules(overrides, verdict):
    result = judge(_facts(**overrides))
    assert result.verdict == verdict, result.reasons
    assert bool(result.reasons) == (verdict != "certified")


SCALE = ("scale",)


@pytest.mark.parametrize("overrides,verdict", [
    ({}, "passed"),
    # claimed features the scope does not exercise are no reason to fail a scoped run
    ({"features": {"share": {"claimed": True, "status": "verified"},
                   "snapshot": {"claimed": True, "status": "unverified"}}}, "passed"),
    ({"results": [_r("passed"), _r("failed", "recommended")]}, "passed"),
    ({"results": [_r("failed")], "features": {"share": {"claimed": True, "status": "failed"}}},
     "failed"),
    ({"results": [_r("passed"), _r("error")]}, "failed"),
    ({"leaks": 1}, "failed"),
    ({"interrupted": True, "pytest_exit": 2}, "failed"),
    ({"false_claims": ["snapshot: create_snapshot is not implemented"], "pytest_exit": None,
      "results": []}, "failed"),
    ({"keyword": "scale", "deselected": 3}, "partial"),
    ({"not_run": 2}, "partial"),
    ({"pytest_exit": 5, "results": []}, "partial"),
    ({"results": [_r("skipped"), _r("passed", "recommended")]}, "partial"),
])
def test_suite_scoped_verdict_rules(overrides, verdict):
    """A run without the contract suite is judged on what it ran and is never certified."""
    result = judge(_facts(scope=SCALE, **overrides))
    assert result.verdict == verdict, result.reasons
    assert result.reasons
    if verdict == "passed":
        assert result.reasons == ("suite-scoped run: every required check of the scale suite(s) "
                                  "passed; a certification also runs the contract suite",)


@pytest.mark.parametrize("suites,scope", [
    (["contract"], None), (["contract", "scale"], None), (["datapath", "contract"], None),
    (["scale"], ("scale",)), (["api"], ("api",)), (["datapath", "api", "datapath"], ("datapath", "api")),
])
def test_the_contract_suite_makes_a_run_able_to_certify(suites, scope):
    assert scope_of(suites) == scope
    assert describe("passed", scope) == ("passed" if scope is None else
                                         f"passed ({' + '.join(scope)} only; not a certification)")


def _scoped_suites(tmp_path, monkeypatch, body: str, name: str) -> None:
    """A `scale` suite of one check, in test_<name>.py (a module name of its own: pytest's
    importlib mode would reuse a module of the same name), the suites root swapped for it."""
    suite = tmp_path / "suites" / "scale"
    suite.mkdir(parents=True)
    (tmp_path / "suites" / "__init__.py").write_text("")
    (suite / "__init__.py").write_text("")
    (suite / f"test_{name}.py").write_text(
        "from certkit.contract.checks import check\n\n"
        f"@check('{uuid.uuid4()}', 'share')\ndef test_one():\n    \"One check.\"\n    {body}\n")
    import certkit.runner

    monkeypatch.setattr(certkit.runner, "suites_root", lambda: tmp_path / "suites")


@pytest.mark.parametrize("body,verdict,status", [("pass", "passed", 0),
                                                 ("assert False, 'no'", "failed", 1)])
def test_a_scale_only_run_reports_about_scale(dummy_profile, tmp_path, monkeypatch, capsys, body,
                                              verdict, status):
    """`certkit run --suite scale`: passed/failed with its scope, exit 0/1, a schema-valid report."""
    _scoped_suites(tmp_path, monkeypatch, body, verdict)
    from certkit import cli

    report_path = tmp_path / "r.json"
    code = cli.main(["run", str(dummy_profile.path), "--suite", "scale", "--no-audit",
                     "--report", str(report_path)])
    report = json.loads(report_path.read_text())
    assert (code, report["verdict"], report["scope"]) == (status, verdict, ["scale"]), report["reasons"]
    out = capsys.readouterr().out
    assert f"verdict: {verdict} (scale only; not a certification)" in out
    # claimed features the scope has no check for are shown as such, not as "unverified"
    assert re.search(r"^snapshot +not in scope \(no required check in scale\)$", out, re.M), out
    assert re.search(r"^share +(verified|FAILED)", out, re.M), out
    assert validate_report(report) == []
    assert report["features"]["snapshot"]["status"] == "unverified"  # claimed, not exercised


def test_the_report_schema_knows_every_verdict_the_rules_give():
    from certkit.schema_check import load_schema

    assert load_schema("report.schema.json")["properties"]["verdict"]["enum"] == list(VERDICTS)


def test_old_reports_stay_valid_and_a_scoped_verdict_needs_its_scope(dummy_profile):
    report = run_certification(dummy_profile, keyword="test_extend_share").report
    assert report["scope"] is None and validate_report(report) == []
    old = {k: v for k, v in report.items() if k != "scope"}
    old["checks"] = [{k: v for k, v in c.items() if k != "docs"} for c in report["checks"]]
    assert validate_report(old) == []
    assert any("scope" in p for p in validate_report({**old, "verdict": "passed"}))
    assert validate_report({**old, "verdict": "passed", "scope": ["scale"]}) == []
    assert validate_report({**old, "verdict": "certified", "scope": ["scale"]}) != []


def test_an_exception_whose_str_raises_neither_crashes_pytest_nor_loses_checks(dummy_profile):
    report = run_certification(dummy_profile, driver_class=hostile_drivers.RaisesUnprintable,
                               keyword="test_create_and_delete_share or test_extend_share").report
    outcomes = {(c["name"], c.get("variant", "")): c["outcome"] for c in report["checks"]}
    assert outcomes[("test_create_and_delete_share", "NFS")] == "failed", report["checks"]
    message = next(c["message"] for c in report["checks"] if c["name"] == "test_create_and_delete_share")
    assert "UnprintableError" in message and "str() raised" in message
    assert not any(c["message"].startswith("not run") for c in report["checks"])
    assert report["verdict"] == "not-certified"


def test_a_pytest_internal_error_never_certifies(dummy_profile, monkeypatch, capfd):
    """The plugin's own reporting crashes after two checks: pytest exits 3, the missing checks
    are listed as not run, and the verdict is partial (nothing failed, but not all ran)."""
    real, calls = hooks.classify, []

    def crashing(exc):
        calls.append(exc)
        if len(calls) == 7:  # the setup phase of the third check
            raise RuntimeError("reporting crashed")
        return real(exc)

    monkeypatch.setattr(hooks, "classify", crashing)
    run = run_certification(dummy_profile, keyword="test_shares or test_snapshots")
    report = run.report
    assert run.pytest_exit == 3
    assert report["verdict"] == "partial", report["reasons"]
    assert any("internal error" in r for r in report["reasons"]), report["reasons"]
    not_run = [c for c in report["checks"] if c["message"].startswith("not run")]
    assert not_run and all(c["outcome"] == "skipped" for c in not_run)
    assert len(report["checks"]) == report["summary"]["total"] >= 3
    assert "Traceback" not in capfd.readouterr().err


def test_a_hung_driver_stops_the_run_and_reports_the_rest_as_not_run(dummy_profile):
    profile = with_timeouts(dummy_profile, cleanup=0.5, status_poll=0.5)
    before = set(threading.enumerate())
    try:
        run = run_certification(profile, driver_class=hostile_drivers.HangsForever,
                                check_timeout=0.5)
        left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    finally:
        hostile_drivers.RELEASE.set()
    assert len(left) == 1 and left[0] == f"certkit:check {errors_name(run.report)}", \
        (left, "one hung call, one thread left behind: the run made no further calls")
    report = run.report
    errors = [c for c in report["checks"] if c["outcome"] == "error"]
    assert len(errors) == 1 and "did not return within 0.5 s" in errors[0]["message"], errors
    not_run = [c for c in report["checks"] if c["message"].startswith("not run: a driver call hung")]
    ran = [c for c in report["checks"] if c not in not_run]
    assert len(not_run) > 50 and len(ran) < 10, ran
    assert report["verdict"] == "not-certified"
    assert any(r.startswith("the run stopped: a driver call hung") for r in report["reasons"])
    assert validate_report(report) == []


def errors_name(report: dict) -> str:
    """`name[variant]` of the (one) check that ended in error."""
    check = next(c for c in report["checks"] if c["outcome"] == "error")
    return check["name"] + (f"[{check['variant']}]" if check.get("variant") else "")


def test_no_check_raises_the_users_timeout():
    run = CertificationRun.__new__(CertificationRun)
    run.check_timeout = 5.0
    assert check_timeout(run, CheckInfo(str(uuid.uuid4()), "share", timeout=300)) == 5.0
    assert check_timeout(run, CheckInfo(str(uuid.uuid4()), "share", timeout=2)) == 2
    assert check_timeout(run, None) == 5.0
    run.api_check_timeout = 300.0  # timeouts.api_check: the API suite's checks wait on services
    assert check_timeout(run, CheckInfo(str(uuid.uuid4()), "share"), "api") == 300.0
    assert check_timeout(run, CheckInfo(str(uuid.uuid4()), "share", timeout=2), "api") == 2
    assert check_timeout(run, CheckInfo(str(uuid.uuid4()), "share"), "contract") == 5.0
    for info in _every_check().values():
        assert info.timeout is None or info.timeout <= 60, info


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_stats_schema_rejects_non_finite_numbers(value):
    pool = {"pool_name": "p", "total_capacity_gb": value, "free_capacity_gb": 1,
            "reserved_percentage": 0, "reserved_snapshot_percentage": 0,
            "reserved_share_extend_percentage": 0}
    stats = {"share_backend_name": "b", "driver_handles_share_servers": False, "vendor_name": "v",
             "driver_version": "1", "storage_protocol": "NFS", "total_capacity_gb": value,
             "free_capacity_gb": 1, "reserved_percentage": 0, "reserved_snapshot_percentage": 0,
             "reserved_share_extend_percentage": 0, "pools": [pool]}
    problems = schema_errors(stats, "stats.schema.json", root="stats")
    assert any("stats.total_capacity_gb" in p for p in problems), problems
    assert any("stats.pools[0].total_capacity_gb" in p for p in problems), problems


def test_a_driver_reporting_infinite_capacity_fails_the_stats_check(dummy_profile):
    report = run_certification(dummy_profile, driver_class=hostile_drivers.InfiniteCapacity,
                               keyword="test_stats_match_schema").report
    assert [c["outcome"] for c in report["checks"]] == ["failed"], report["checks"]
    assert "total_capacity_gb" in report["checks"][0]["message"]


# -- check ids, in the spirit of tempest's check_uuid ------------------------------------------
def _every_check() -> dict[str, CheckInfo]:
    """Every test function of every suite module -> its CheckInfo (AssertionError if unmarked)."""
    found: dict[str, CheckInfo] = {}
    for info in pkgutil.walk_packages(suites.__path__, "suites."):
        if not info.name.rsplit(".", 1)[-1].startswith("test_"):
            continue
        module = importlib.import_module(info.name)
        for name, func in vars(module).items():
            if not (name.startswith("test_") and callable(func)):
                continue
            marks = [m for m in getattr(func, "pytestmark", []) if m.name == MARK]
            if any(m.name == PER_TEST_MARK for m in getattr(func, "pytestmark", [])):
                continue  # its checks carry the outside tests' own ids (tests/live/)
            assert marks, f"{info.name}.{name} has no @check(<uuid4>, <feature>)"
            found[f"{info.name}.{name}"] = marks[0].args[0]
    return found


def _hand_typed(hex32: str) -> bool:
    """Patterned hex such as 0b1c2d3e...: most digits two apart step by one."""
    steps = sum((int(hex32[i + 2], 16) - int(hex32[i], 16)) % 16 == 1 for i in range(30))
    return steps >= 8


def test_every_check_has_its_own_uuid4():
    seen: dict[str, str] = {}
    checks = _every_check()
    for where, info in checks.items():
        parsed = uuid.UUID(info.id)
        assert str(parsed) == info.id and parsed.version == 4 and parsed.variant == uuid.RFC_4122, where
        assert not _hand_typed(parsed.hex), f"{where}: {info.id} looks hand-typed; use uuid.uuid4()"
        assert info.id not in seen, f"{where} reuses the UUID of {seen[info.id]}"
        seen[info.id] = where
    assert len(seen) >= 50


def test_a_test_without_check_is_a_collection_error(dummy_profile, tmp_path, monkeypatch):
    suite = tmp_path / "suites" / "contract"
    suite.mkdir(parents=True)
    (tmp_path / "suites" / "__init__.py").write_text("")
    (suite / "__init__.py").write_text("")
    (suite / "test_mixed.py").write_text(
        "from certkit.contract.checks import check\n\n"
        f"@check('{uuid.uuid4()}', 'share')\ndef test_marked():\n    pass\n\n"
        "def test_forgot_its_id():\n    pass\n")
    import certkit.runner

    monkeypatch.setattr(certkit.runner, "suites_root", lambda: tmp_path / "suites")
    report = run_certification(dummy_profile, audit=False).report
    assert [c["name"] for c in report["checks"]] == ["test_marked"]
    assert report["verdict"] == "partial"
    assert any("test_forgot_its_id: not a certkit check" in r for r in report["reasons"]), report["reasons"]


def test_minus_k_with_a_uuid_selects_that_check_and_the_run_is_partial(dummy_profile):
    """A filtered run of passing checks never certifies, and the report records the filter."""
    where, info = next((w, i) for w, i in _every_check().items() if w.endswith(".test_extend_share"))
    report = run_certification(dummy_profile, keyword=info.id).report
    assert [(c["id"], c["name"], c["outcome"]) for c in report["checks"]] == [
        (info.id, "test_extend_share", "passed")]
    assert report["verdict"] == "partial"
    assert report["selection"] == {"suites": ["contract"], "keyword": info.id}
    assert report["checks"][0]["suite"] == "contract"
    assert validate_report(report) == []
