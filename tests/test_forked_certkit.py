"""tests/forked_certkit.py: commands forked from one warm process answer as separate commands do
(exit status, output, report), each in exactly the environment it was given."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import DUMMY_PROFILE, ROOT, run_certkit
from tests.forked_certkit import ForkedCertkit

ONE_CHECK = "test_create_and_delete_share"


@pytest.fixture(scope="module")
def forked(tmp_path_factory):
    runner = ForkedCertkit(tmp_path_factory.mktemp("forked"))
    yield runner
    runner.close()


def test_a_forked_run_reports_what_a_separate_command_reports(forked, tmp_path):
    reports = {}
    for how, run in (("forked", forked.run), ("command", run_certkit)):
        path = tmp_path / f"{how}.json"
        proc = run("run", str(DUMMY_PROFILE), "--no-audit", "-k", ONE_CHECK, "--report", str(path))
        assert f"report: {path}" in proc.stdout, proc.stderr[-2000:]
        report = json.loads(path.read_text())
        reports[how] = (proc.returncode, report["verdict"],
                        sorted((c["name"], c.get("variant"), c["outcome"]) for c in report["checks"]))
    # -k leaves the verdict partial: exit status 3, the same for both
    assert reports["forked"] == reports["command"] and reports["forked"][:2] == (3, "partial")


def test_errors_and_exit_status_are_the_commands(forked, tmp_path):
    proc = forked.run("run", str(tmp_path / "missing.yaml"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and proc.stderr.startswith("certkit: error: ")
    assert forked.run("--version").stdout.startswith("certkit ")


def test_each_child_gets_exactly_its_environment(forked, tmp_path):
    """A variable given to one child is gone in the next (no state carried between runs)."""
    profile = tmp_path / "needs-env.yaml"
    profile.write_text(DUMMY_PROFILE.read_text().replace("share_backend_name: manila-dummy",
                                                         "share_backend_name: ${CERTKIT_FORK_TEST_NAME}"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ("run", str(profile), "--no-audit", "-k", ONE_CHECK, "--report", str(tmp_path / "r.json"))
    with_name = forked.run(*args, env={**env, "CERTKIT_FORK_TEST_NAME": "forked-backend"})
    without = forked.run(*args, env=env)
    assert with_name.returncode == 3, with_name.stderr[-2000:]  # partial: -k
    assert without.returncode == 2 and "CERTKIT_FORK_TEST_NAME" in without.stderr, without.stderr
