"""A bad profile fails with one line naming the file, the field and the problem (exit 2)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from certkit.errors import ProfileError
from certkit.profile import load_profile
from tests.conftest import DUMMY_PROFILE, ROOT

GOOD = DUMMY_PROFILE.read_text()


def _variant(tmp_path, text: str):
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return path


CASES = [
    ("unknown top-level key", GOOD + "colour: blue\n", "colour", "unknown key"),
    ("typo in nested key", GOOD.replace("ci: {}", "ci: {acount: x}"), "ci.acount", "unknown key"),
    ("wrong type", GOOD.replace("driver_handles_share_servers: [false, true]",
                                "driver_handles_share_servers: maybe"),
     "driver_handles_share_servers", ""),
    ("unknown feature", GOOD.replace("  - shrink\n", "  - shrinking\n"), "features[2]",
     "unknown feature 'shrinking'"),
    ("derived feature listed", GOOD.replace("  - shrink\n", "  - access_ip\n"), "features[2]",
     "access_types"),
    ("unimportable driver", GOOD.replace("manila.tests.share.drivers.dummy.DummyDriver",
                                         "vendor_sdk.drivers.Missing"), "driver", "cannot import"),
    ("missing class", GOOD.replace("DummyDriver", "NoSuchDriver"), "driver", "has no class"),
    ("missing env var", GOOD.replace("share_backend_name: manila-dummy",
                                     "share_backend_name: manila-dummy\n  san_password: ${CERTKIT_NOPE}"),
     "config.san_password", "CERTKIT_NOPE is not set"),
    ("bad yaml", GOOD.replace("protocols: [NFS, CIFS]", "protocols: [NFS, CIFS"), "line", "invalid YAML"),
    ("missing required key", GOOD.replace("vendor: OpenStack Manila (in-tree test driver)\n", ""),
     "vendor", "required key is missing"),
    ("access type for unlisted protocol", GOOD.replace("  CIFS: [user]", "  CIFS: [user]\n  CEPHFS: [cephx]"),
     "access_types.CEPHFS", "not listed in protocols"),
    ("not a mapping", "- a\n- b\n", "(top level)", "must be a mapping"),
    ("name ending in a newline", GOOD.replace("name: manila-dummy\n", 'name: "manila-dummy\\n"\n'),
     "name", "does not match"),
    ("driver ending in a newline", GOOD.replace("driver: manila.tests.share.drivers.dummy.DummyDriver\n",
                                                'driver: "manila.tests.share.drivers.dummy.DummyDriver\\n"\n'),
     "driver", "does not match"),
    ("infinite timeout", GOOD + "timeouts: {check: .inf}\n", "timeouts.check", ""),
    ("alias bomb under config", GOOD.replace("config:\n", "config:\n  bomb: " + (
        "&a0 [x, x, x, x, x, x, x, x, x, x]" + "".join(
            f"\n  b{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]"
            for i in range(1, 9))) + "\n"), "(top level)", "expands to more than"),
    ("recursive alias", GOOD + "loop: &l [*l]\n", "(top level)", "expands to more than"),
    ("oversized file", GOOD + "# " + "x" * 300_000 + "\n", "(top level)", "larger than 256 KiB"),
]


@pytest.mark.parametrize("case,text,field,problem", CASES, ids=[c[0] for c in CASES])
def test_load_profile_names_file_field_and_problem(tmp_path, case, text, field, problem):
    path = _variant(tmp_path, text)
    with pytest.raises(ProfileError) as err:
        load_profile(path, environ={})
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: "), message
    assert field in err.value.field, message
    assert problem in message, message


def test_env_substitution_and_default(tmp_path):
    text = GOOD.replace("share_backend_name: manila-dummy",
                        "share_backend_name: manila-dummy\n  san_login: ${LOGIN:-admin}\n"
                        "  san_password: ${PW}")
    profile = load_profile(_variant(tmp_path, text), environ={"PW": "s3cr3t-pw"})
    assert profile.config["san_login"] == "admin"
    assert profile.config["san_password"] == "s3cr3t-pw"
    assert profile.redact("error: s3cr3t-pw rejected") == "error: *** rejected"


def test_cli_reports_bad_profile_in_one_line_with_exit_2(tmp_path):
    path = _variant(tmp_path, GOOD + "colour: blue\n")
    proc = subprocess.run([sys.executable, "-m", "certkit.cli", "run", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert f"{path}: colour: unknown key" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_fifo_is_refused_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "profile.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ProfileError, match="is not a regular file"):
        load_profile(fifo, environ={})


def test_secrets_of_any_length_and_characters_are_redacted_structurally():
    from certkit.redaction import redact_tree

    secrets = ['a"b\\c', "\u00e9t\u00e9", "k", "pa$$"]
    data = {"message": 'x=\'a"b\\\\c\' json="a\\"b\\\\c" \u00e9t\u00e9 \\xe9t\\xe9 k! pa$$',
            "list": ["k", "kk", "keep k here"], 'a"b\\c': 1}
    out = redact_tree(data, secrets)
    text = str(out)
    assert out["message"] == "x='***' json=\"***\" *** *** ***! ***", out["message"]
    assert out["list"] == ["***", "kk", "keep *** here"]
    assert "***" in out and 'a"b\\c' not in text and "\u00e9t\u00e9" not in text


def test_cli_reports_missing_profile_file(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "certkit.cli", "run", str(tmp_path / "nope.yaml")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "nope.yaml: (top level): no such file" in proc.stderr


def test_a_driver_module_that_hangs_on_import_gets_a_time_limit(tmp_path, monkeypatch):
    (tmp_path / "hangs_on_import.py").write_text("import time\ntime.sleep(600)\nclass Driver: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = _variant(tmp_path, GOOD.replace("manila.tests.share.drivers.dummy.DummyDriver",
                                           "hangs_on_import.Driver")
                    + "timeouts: {import: 0.5}\n")
    with pytest.raises(ProfileError) as err:
        load_profile(path, environ={})
    assert err.value.field == "driver"
    assert "importing module hangs_on_import did not finish within 0.5 s" in str(err.value)
