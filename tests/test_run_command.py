"""`certkit run`: exit status, JSON report (schema-valid), JUnit XML, and secrets kept out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

from certkit.report import validate_report
from tests.conftest import DUMMY_PROFILE, ROOT


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "certkit.cli", "run", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def test_dummy_profile_is_certified_with_valid_report_and_junit(tmp_path):
    report_path, junit_path = tmp_path / "r.json", tmp_path / "r.xml"
    proc = _run(str(DUMMY_PROFILE), "--report", str(report_path), "--junit-xml", str(junit_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "verdict: certified" in proc.stdout
    assert str(report_path) in proc.stdout and str(junit_path) in proc.stdout
    report = json.loads(report_path.read_text())
    assert validate_report(report) == []
    assert report["verdict"] == "certified" and report["summary"]["failed"] == 0
    assert all(c["id"] for c in report["checks"])
    suite = ET.parse(junit_path).getroot().find("testsuite")
    assert int(suite.get("tests")) == len(report["checks"])
    assert int(suite.get("failures")) == 0


def test_failing_driver_exits_1_and_keeps_secrets_out(tmp_path):
    secret = "pa55-w0rd-do-not-print"
    profile = tmp_path / "leaky.yaml"
    profile.write_text(DUMMY_PROFILE.read_text()
                       .replace("manila.tests.share.drivers.dummy.DummyDriver",
                                "tests.broken.lifecycle.LeaksSecretInErrors")
                       .replace("share_backend_name: manila-dummy",
                                "share_backend_name: manila-dummy\n  san_password: ${CERTKIT_TEST_SECRET}"))
    report_path, junit_path = tmp_path / "r.json", tmp_path / "r.xml"
    proc = _run(str(profile), "--no-audit", "--report", str(report_path), "--junit-xml",
                str(junit_path), env={"CERTKIT_TEST_SECRET": secret})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "verdict: not-certified" in proc.stdout
    for text in (proc.stdout, proc.stderr, report_path.read_text(), junit_path.read_text()):
        assert secret not in text
    report = json.loads(report_path.read_text())
    failed = [c for c in report["checks"] if c["outcome"] == "failed"]
    assert failed and "password *** failed" in failed[0]["message"]
    assert report["features"]["share"]["status"] == "failed"


def test_keyword_selects_checks_and_unselected_features_are_not_verified(tmp_path):
    report_path = tmp_path / "r.json"
    proc = _run(str(DUMMY_PROFILE), "-k", "test_extend_share", "--report", str(report_path))
    report = json.loads(report_path.read_text())
    assert [c["name"] for c in report["checks"]] == ["test_extend_share"]
    assert report["features"]["extend"]["status"] == "verified"
    assert report["features"]["share"]["status"] == "unverified"
    assert proc.returncode == 1 and report["verdict"] == "not-certified"


def test_unknown_suite_is_a_usage_error():
    proc = _run(str(DUMMY_PROFILE), "--suite", "nosuch")
    assert proc.returncode == 2
    assert "--suite: unknown suite 'nosuch'" in proc.stderr
