"""`certkit run`: exit status, JSON report (schema-valid), JUnit XML, and secrets kept out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from certkit import cli
from certkit.check_catalogue import check_docs_url
from certkit.report import validate_report
from tests.conftest import DUMMY_PROFILE, ROOT


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "certkit.cli", "run", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def _password_profile(path: Path, driver: str, variable: str) -> Path:
    """The dummy profile written to `path` with another driver and `san_password: ${variable}`."""
    path.write_text(DUMMY_PROFILE.read_text()
                    .replace("manila.tests.share.drivers.dummy.DummyDriver", driver)
                    .replace("share_backend_name: manila-dummy",
                             f"share_backend_name: manila-dummy\n  san_password: ${{{variable}}}"))
    return path


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
    profile = _password_profile(tmp_path / "leaky.yaml", "tests.broken.lifecycle.LeaksSecretInErrors",
                                "CERTKIT_TEST_SECRET")
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
    # every failure names its check's UUID and the catalogue page that explains it
    first = failed[0]
    assert first["docs"] == check_docs_url(first["id"], first["feature"])
    assert f"(check {first['id']}): " in proc.stdout and first["docs"] in proc.stdout
    junit_failures = {f.get("message") for f in ET.parse(junit_path).getroot().iter("failure")}
    assert all(f"[check {c['id']}; see {c['docs']}]" in "".join(junit_failures) for c in failed)


def test_keyword_selects_checks_and_a_filtered_run_is_partial(tmp_path):
    """`-k` runs a subset: never certified, exit 3, and the report records the filter."""
    report_path = tmp_path / "r.json"
    proc = _run(str(DUMMY_PROFILE), "-k", "test_extend_share", "--report", str(report_path))
    report = json.loads(report_path.read_text())
    assert [c["name"] for c in report["checks"]] == ["test_extend_share"]
    assert report["features"]["extend"]["status"] == "verified"
    assert report["features"]["share"]["status"] == "unverified"
    assert proc.returncode == 3 and report["verdict"] == "partial", proc.stdout
    assert "verdict: partial" in proc.stdout
    assert report["selection"] == {"suites": ["contract"], "keyword": "test_extend_share"}
    assert any("-k 'test_extend_share'" in r for r in report["reasons"]), report["reasons"]
    assert validate_report(report) == []


def test_unknown_suite_is_a_usage_error():
    proc = _run(str(DUMMY_PROFILE), "--suite", "nosuch")
    assert proc.returncode == 2
    assert "--suite: unknown suite 'nosuch'" in proc.stderr


# -- secrets: redacted in the data, whatever their characters and length -------------------------
def _echo_profile(tmp_path: Path) -> str:
    return str(_password_profile(tmp_path / "echo.yaml", "tests.hostile_drivers.EchoesPassword",
                                 "CERTKIT_TEST_PASSWORD"))


HOSTILE_SECRETS = ['q"uo\\te\\\\d \u00e9\u20ac\U0001f511', "x", "pa$sw0rd", "${HOME}$$"]


@pytest.mark.parametrize("secret", HOSTILE_SECRETS, ids=["quotes-backslashes-unicode", "one-char",
                                                         "dollar", "dollar-reference"])
def test_hostile_secrets_never_reach_stdout_report_or_junit(tmp_path, monkeypatch, capsys, secret):
    monkeypatch.setenv("CERTKIT_TEST_PASSWORD", secret)
    report_path, junit_path = tmp_path / "r.json", tmp_path / "r.xml"
    status = cli.main(["run", _echo_profile(tmp_path), "--no-audit", "-k", "test_create_and_delete_share",
                       "--report", str(report_path), "--junit-xml", str(junit_path)])
    out, err = capsys.readouterr()
    assert status == 1, out + err
    report = json.loads(report_path.read_text())
    message = next(c["message"] for c in report["checks"] if c["outcome"] == "failed")
    # The driver got the value as written (a `$` is not an oslo.config reference) and echoed it.
    assert "login refused for password='***' and ***" in message, message
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    texts = {"stdout": out, "stderr": err, "report": report_path.read_text(encoding="utf-8"),
             "junit": junit_path.read_text(encoding="utf-8")}
    for name, text in texts.items():
        for form in forms:
            if len(secret) >= 4:
                assert form not in text, (name, form)
            else:
                assert f"'{form}'" not in text and f" {form} " not in text, (name, form)


def test_a_dollar_in_a_substituted_value_reaches_the_driver_intact(tmp_path):
    from certkit.harness.driver import build_driver
    from certkit.profile import load_profile
    from tests.hostile_drivers import EchoesPassword

    for value in ("pa$sw0rd", "$state_path", "${x}", "$$", "a$"):
        profile = load_profile(_echo_profile(tmp_path), environ={"CERTKIT_TEST_PASSWORD": value})
        dut = build_driver(profile, driver_class=EchoesPassword)
        assert dut.raw.configuration.safe_get("san_password") == value


# -- output paths ---------------------------------------------------------------------------------
def test_report_over_a_device_the_profile_or_another_output_is_refused(tmp_path, capsys):
    profile = tmp_path / "p.yaml"
    profile.write_text(DUMMY_PROFILE.read_text())
    before = profile.read_text()
    cases = [(["--report", os.devnull], "is not a regular file"),
             (["--report", str(tmp_path)], "is a directory"),
             (["--report", str(profile)], "is the profile file"),
             (["--report", str(tmp_path / ".." / tmp_path.name / "p.yaml")], "is the profile file"),
             (["--report", str(tmp_path / "same"), "--junit-xml", str(tmp_path / "same")],
              "is also the --report output")]
    for args, problem in cases:
        assert cli.main(["run", str(profile), *args]) == 2, args
        err = capsys.readouterr().err
        assert problem in err and err.count("\n") == 1, (args, err)
    assert profile.read_text() == before
    assert os.path.exists(os.devnull) and not os.path.isfile(os.devnull)


def test_a_failed_report_write_still_prints_the_verdict_and_writes_the_junit(tmp_path, capsys):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    junit = tmp_path / "r.xml"
    status = cli.main(["run", str(DUMMY_PROFILE), "-k", "test_extend_share",
                       "--report", str(blocker / "r.json"), "--junit-xml", str(junit)])
    out, err = capsys.readouterr()
    assert status == 2
    assert "verdict: partial" in out and f"junit:  {junit}" in out
    assert "report not written" in err and "Traceback" not in err
    assert ET.parse(junit).getroot().find("testsuite").get("tests") == "1"
