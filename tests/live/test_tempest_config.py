"""tempest.conf from profiles, tempest results to checks, the reviewed known-failures file: no
Manila needed (fast)."""

from __future__ import annotations

import configparser
import dataclasses
import datetime
import io
import os
from pathlib import Path

import pytest
import yaml

from certkit.apitier.target import ApiTarget
from certkit.apitier.tempest_conf import tempest_conf_text
from certkit.apitier.tempest_features import feature_of, idempotent_id
from certkit.apitier.tempest_run import complete_results, parse_subunit, teardown_failures
from certkit.profile import load_profile
from certkit.errors import CertkitError
from certkit.livestack.procs import alive
from certkit.livestack.targets import resolve_api_target
from tests.conftest import ROOT

TARGET = ApiTarget("http://127.0.0.1:1/v3", "admin", "s3cr3t-Pa$$", "admin", backend="be1")


def conf_of(profile) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(tempest_conf_text(profile, TARGET, ("2.0", "2.87"), "NFS_CIFS", Path("/tmp/x")))
    return parser


def test_dummy_profile_drives_protocols_rules_switches_and_microversions(dummy_profile):
    share = conf_of(dummy_profile)["share"]
    assert share["enable_protocols"] == "nfs,cifs"
    assert share["enable_ip_rules_for_protocols"] == "nfs"
    assert share["enable_user_rules_for_protocols"] == "cifs"
    assert share["enable_cephx_rules_for_protocols"] == ""
    assert share["enable_ro_access_level_for_protocols"] == "nfs,cifs"
    assert share["multitenancy_enabled"] == "False"
    assert share["run_snapshot_tests"] == "True"
    assert share["run_replication_tests"] == "True"
    assert share["backend_replication_type"] == "readable"  # "none" fails the tests' setUpClass
    assert share["run_driver_assisted_migration_tests"] == "False"  # one back end in the lab
    assert share["max_api_microversion"] == "2.87"
    assert share["backend_names"] == "be1"


def test_cephfs_profile_turns_off_what_it_does_not_claim():
    profile = load_profile(ROOT / "driver_profiles" / "cephfs-native.yaml", check_import=False)
    share = conf_of(profile)["share"]
    assert share["enable_protocols"] == "cephfs"
    assert share["enable_cephx_rules_for_protocols"] == "cephfs"
    assert share["enable_ip_rules_for_protocols"] == ""
    for switch in ("run_revert_to_snapshot_tests", "run_share_group_tests", "run_replication_tests",
                   "run_manage_unmanage_tests", "run_mount_snapshot_tests"):
        assert share[switch] == "False", switch
    assert share["run_extend_tests"] == share["run_shrink_tests"] == "True"
    assert share["capability_revert_to_snapshot_support"] == "False"
    assert share["backend_replication_type"] == "none"


def conf_for(profile, target) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(tempest_conf_text(profile, target, ("2.0", "2.87"), "NFS_CIFS", Path("/tmp/x")))
    return parser


def test_multitenancy_follows_the_mode_the_target_runs(dummy_profile):
    dhss_true = dataclasses.replace(TARGET, dhss=True)
    assert conf_for(dummy_profile, dhss_true)["share"]["multitenancy_enabled"] == "True"
    assert conf_for(dummy_profile, dhss_true)["share"]["create_networks_when_multitenancy_enabled"] == "False"
    true_first = dataclasses.replace(dummy_profile, dhss_modes=(True, False))
    assert conf_for(true_first, TARGET)["share"]["multitenancy_enabled"] == "False"


def test_openrc_target_runs_the_profiles_first_mode(dummy_profile):
    env = {"OS_AUTH_URL": "http://cloud:5000/v3", "OS_USERNAME": "admin", "OS_PASSWORD": "pw",
           "OS_PROJECT_NAME": "admin"}
    assert resolve_api_target(dummy_profile, env).dhss is False
    true_first = dataclasses.replace(dummy_profile, dhss_modes=(True, False))
    assert resolve_api_target(true_first, env).dhss is True


def test_lab_state_mode_reaches_the_target_and_the_default_type(dummy_profile, tmp_path, monkeypatch):
    from certkit.apitier.specs import default_type_specs
    from certkit.livestack.state import LabState, save_state

    root = tmp_path / "lab"
    state = LabState.new(str(dummy_profile.path), dummy_profile.name, "manila-dummy", True)
    state.ports = {"keystone": 5000, "manila_api": 8786}
    save_state(root, state)
    monkeypatch.setenv("CERTKIT_MANILA_LAB_DIR", str(root))
    target = resolve_api_target(dummy_profile, {})
    assert (target.dhss, target.backend) == (True, "manila-dummy")
    assert "DHSS=True" in target.origin
    assert default_type_specs(dummy_profile, True)["driver_handles_share_servers"] == "True"
    assert default_type_specs(dummy_profile)["driver_handles_share_servers"] == "False"


def test_newline_in_a_secret_is_refused(dummy_profile):
    target = dataclasses.replace(TARGET, password="a\n[auth]\nadmin_password = x")
    with pytest.raises(CertkitError, match="one line"):
        tempest_conf_text(dummy_profile, target, ("2.0", "2.87"), "NFS", Path("/tmp/x"))


@pytest.mark.parametrize("test_id,feature", [
    ("manila_tempest_tests.tests.api.test_shares.SharesNFSTest.test_create_get_delete_share[id-21ad41fb-04cf-493c-bc2f-66c80220898b]", "share"),
    ("manila_tempest_tests.tests.api.test_snapshot_rules.SnapshotIPRulesForNFSTest.test_create_delete_snapshot_ip_rules_for_nfs[id-1]", "mountable_snapshot"),
    ("manila_tempest_tests.tests.api.test_rules.ShareIpRulesForNFSTest.test_create_delete_access_rules_with_one_ip[id-1]", "access_ip"),
    ("manila_tempest_tests.tests.api.test_rules.ShareUserRulesForCIFSTest.test_create_delete_user_rule[id-1]", "access_user"),
    ("manila_tempest_tests.tests.api.test_rules.ShareCephxRulesForCephFSTest.test_create_delete_cephx_rule[id-1]", "access_cephx"),
    ("manila_tempest_tests.tests.api.test_shares_actions.SharesActionsTest.test_extend_share[id-1]", "extend"),
    ("manila_tempest_tests.tests.api.test_revert_to_snapshot.RevertToSnapshotTest.test_revert[id-1]", "revert_to_snapshot"),
    ("manila_tempest_tests.tests.api.test_replication.ReplicationTest.test_add_delete_share_replica[id-1]", "replication_readable"),
    ("manila_tempest_tests.tests.api.test_share_group_actions.ShareGroupActionsTest.test_get_share_group[id-1]", "share_groups"),
])
def test_feature_of_tempest_tests(test_id, feature):
    assert feature_of(test_id) == feature


def test_idempotent_id_is_the_tempest_id_or_a_stable_uuid():
    tid = "m.C.test_x[backend,id-21ad41fb-04cf-493c-bc2f-66c80220898b,positive]"
    assert idempotent_id(tid) == "21ad41fb-04cf-493c-bc2f-66c80220898b"
    assert idempotent_id("m.C.test_y") == idempotent_id("m.C.test_y") != idempotent_id("m.C.test_z")


def _subunit(tests: list[tuple[str, str, str]]) -> io.BytesIO:
    import subunit

    out = io.BytesIO()
    stream = subunit.StreamResultToBytes(out)
    now = datetime.datetime.now(datetime.timezone.utc)
    for test_id, status, reason in tests:
        stream.status(test_id=test_id, test_status="inprogress", timestamp=now)
        if reason:
            stream.status(test_id=test_id, file_name="reason", file_bytes=reason.encode(),
                          mime_type="text/plain; charset=utf8", eof=True)
        stream.status(test_id=test_id, test_status=status, timestamp=now)
    out.seek(0)
    return out


def test_every_listed_test_gets_a_result_skips_stay_skips(tmp_path):
    listed = ["m.A.test_ok[id-1]", "m.A.test_fail[id-2]", "m.A.test_skip[id-3]",
              "m.B.test_in_skipped_class[id-4]", "m.C.test_in_broken_class[id-5]",
              "m.D.test_never_reported[id-6]"]
    stream = _subunit([("m.A.test_ok[id-1]", "success", ""), ("m.A.test_fail[id-2]", "fail", ""),
                       ("m.A.test_skip[id-3]", "skip", "Only for multitenancy."),
                       ("setUpClass (m.B)", "skip", "cifs tests are disabled"),
                       ("setUpClass (m.C)", "fail", "")])
    path = tmp_path / "r.subunit"
    path.write_bytes(stream.read())
    results = {r.test_id: r for r in complete_results(listed, parse_subunit(path), 1, tmp_path)}
    assert [results[t].outcome for t in listed] == ["passed", "failed", "skipped", "skipped",
                                                    "error", "error"]
    assert results["m.A.test_skip[id-3]"].message == "Only for multitenancy."
    assert results["m.B.test_in_skipped_class[id-4]"].message == "cifs tests are disabled"
    assert "setUpClass of m.C failed" in results["m.C.test_in_broken_class[id-5]"].message
    assert "no result" in results["m.D.test_never_reported[id-6]"].message


def test_a_class_that_failed_its_teardown_is_named_and_its_tests_keep_their_results(tmp_path):
    """tearDownClass failing (GlusterFS: a share its driver cannot delete, so the class's share
    type stays in use) is no listed test: the tests keep their own outcome, and the class is
    named with tempest's message (the API suite records it as a leak)."""
    stream = _subunit([("m.E.test_ok[id-7]", "success", ""), ("m.E.test_too[id-8]", "success", ""),
                       ("tearDownClass (m.E)", "fail", ""), ("tearDownClass (m.F)", "success", "")])
    path = tmp_path / "t.subunit"
    path.write_bytes(stream.read())
    found = parse_subunit(path)
    results = complete_results(["m.E.test_ok[id-7]", "m.E.test_too[id-8]"], found, 1, tmp_path)
    assert [r.outcome for r in results] == ["passed", "passed"]
    assert teardown_failures(found) == {"m.E": "tearDownClass failed"}


def test_known_failures_are_reviewed_entries_of_real_plugin_tests():
    entries = yaml.safe_load((ROOT / "suites" / "api" / "known_failures.yaml").read_text())
    _assert_real_plugin_tests(entries, {"test", "reason", "when"})


def _assert_real_plugin_tests(entries, keys):
    import manila_tempest_tests

    plugin = Path(manila_tempest_tests.__file__).parent.parent
    for entry in entries:
        assert set(entry) <= keys and len(entry["reason"]) > 40, entry
        module, cls, method = entry["test"].rsplit(".", 2)
        if method[0].isupper():  # a whole class
            module, cls, method = f"{module}.{cls}", method, None
        source = (plugin / (module.replace(".", "/") + ".py")).read_text()
        assert f"class {cls}(" in source, entry["test"]
        assert method is None or f"def {method}(" in source, entry["test"]


def test_superseded_plugin_tests_are_real_and_each_names_a_required_certkit_check():
    """Every superseded entry is a real plugin test, says why, and names a check of suites/api
    that exists, asserts the same feature and is not itself excused by any list."""
    import ast

    from certkit.apitier.tempest_features import feature_of
    from certkit.plugin.apitier import SUPERSEDED, superseded

    entries = yaml.safe_load((ROOT / "suites" / "api" / SUPERSEDED).read_text())
    assert entries and superseded(ROOT / "suites" / "api" / SUPERSEDED)
    _assert_real_plugin_tests(entries, {"test", "by", "reason", "when"})
    for entry in entries:
        path, name = entry["by"].split("::")
        tree = ast.parse((ROOT / path).read_text())
        found = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == name]
        assert found, f"{entry['by']}: no such check"
        marks = [d for d in found[0].decorator_list if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "check"]
        assert marks, f"{entry['by']}: not a certkit check"
        feature = ast.literal_eval(marks[0].args[1])
        assert feature == feature_of(entry["test"] + "[id-0]", frozenset({"share"})), entry


def test_a_superseded_test_is_recommended_with_its_replacement_named(tmp_path):
    from certkit.plugin.apitier import SUPERSEDED, known_reason, superseded

    facts = {"database": "mariadb", "manila": "23.0.1", "plugin": "3.2.0"}
    replaced = superseded(ROOT / "suites" / "api" / SUPERSEDED, facts)
    test = ("manila_tempest_tests.tests.api.admin.test_export_locations_negative."
            "ExportLocationsNegativeTest.test_list_share_export_locations_by_different_project_user"
            "[id-a3c3d16b-5f62-4089-8f86-efc660592986,negative]")
    reason = known_reason(replaced, test)
    assert reason and "test_another_projects_user_cannot_see_the_export_locations" in reason
    # a plugin release that catches up ends the entry by itself
    assert known_reason(superseded(ROOT / "suites" / "api" / SUPERSEDED, {**facts, "plugin": "3.3.0"}), test) is None
    bad = tmp_path / SUPERSEDED
    bad.write_text("- test: a.b.C.test_x\n  reason: r\n")  # no replacement named
    with pytest.raises(CertkitError, match=f"{bad}: every entry needs `test` and `by` and `reason`"):
        superseded(bad)


def test_target_from_openrc_or_a_clear_error(dummy_profile, tmp_path, monkeypatch):
    env = {"OS_AUTH_URL": "http://cloud:5000/v3", "OS_USERNAME": "admin", "OS_PASSWORD": "pw",
           "OS_PROJECT_NAME": "admin", "CERTKIT_BACKEND_NAME": "vendor-be"}
    target = resolve_api_target(dummy_profile, env)
    assert (target.auth_url, target.backend, target.can_restart) == ("http://cloud:5000/v3", "vendor-be", False)
    assert "pw" not in repr(target)
    with pytest.raises(CertkitError, match="not ours|not run by certkit"):
        target.restart(["manila-share"])
    with pytest.raises(CertkitError, match="OS_PASSWORD"):
        resolve_api_target(dummy_profile, {k: v for k, v in env.items() if k != "OS_PASSWORD"})
    monkeypatch.setenv("CERTKIT_MANILA_LAB_DIR", str(tmp_path / "none"))
    with pytest.raises(CertkitError, match="certkit lab up manila --profile"):
        resolve_api_target(dummy_profile, {})


def test_api_suite_without_a_manila_is_one_line_before_anything_runs(tmp_path):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["CERTKIT_MANILA_LAB_DIR"] = str(tmp_path / "no-lab")
    proc = subprocess.run([sys.executable, "-m", "certkit.cli", "run",
                           str(ROOT / "driver_profiles" / "manila-dummy.yaml"), "--suite", "api",
                           "--report", str(tmp_path / "r.json")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "certkit: error: no Manila to test: run `certkit lab up manila --profile")
    assert "Traceback" not in proc.stderr and not (tmp_path / "r.json").exists()


def test_a_known_failure_is_a_listed_test_or_a_test_of_a_listed_class():
    from certkit.plugin.apitier import KNOWN_FAILURES, known_failures, known_reason

    known = known_failures(ROOT / "suites" / "api" / KNOWN_FAILURES)
    neg = "manila_tempest_tests.tests.api.test_shares_negative."
    assert "PostgreSQL" in known_reason(known, neg + "SharesAPIOnlyNegativeTest.test_get_share_with_wrong_id[id-1,negative]")
    # the PostgreSQL entry applies only where Manila runs on PostgreSQL
    facts = {"database": "postgresql", "manila": "23.0.1", "plugin": "3.2.0"}
    on_pg = known_failures(ROOT / "suites" / "api" / KNOWN_FAILURES, facts)
    on_mariadb = known_failures(ROOT / "suites" / "api" / KNOWN_FAILURES, {**facts, "database": "mariadb"})
    test = neg + "SharesAPIOnlyNegativeTest.test_get_share_with_wrong_id[id-1,negative]"
    assert known_reason(on_pg, test) and known_reason(on_mariadb, test) is None
    unknown = known_failures(ROOT / "suites" / "api" / KNOWN_FAILURES, {**facts, "database": ""})
    assert known_reason(unknown, test) is None  # an OS_* cloud: its database is not known
    assert known_reason(known, neg + "SharesNegativeTest.test_get_share_with_wrong_id[id-1]") is None
    assert known_reason(known, neg + "SharesAPIOnlyNegativeTestX.test_x[id-1]") is None


def test_known_failures_file_errors_name_the_file(tmp_path):
    from certkit.plugin.apitier import known_failures

    bad = tmp_path / "known_failures.yaml"
    bad.write_text("- test: a.b.C.test_x\n")  # no reason
    with pytest.raises(CertkitError, match=f"{bad}: every entry needs `test` and `reason`"):
        known_failures(bad)
    for when in ("{db: mariadb}", "{manila: 'not a version'}", "[mariadb]"):
        bad.write_text(f"- test: a.b.C.test_x\n  reason: r\n  when: {when}\n")
        with pytest.raises(CertkitError, match=f"^{bad}: every entry needs .* `when` only database, manila, plugin"):
            known_failures(bad)
    assert known_failures(tmp_path / "absent.yaml") == {}


def test_a_running_tempest_reports_progress_and_is_killed_when_interrupted(tmp_path, monkeypatch):
    import sys

    from certkit.apitier import tempest_run

    (tmp_path / "logs").mkdir()
    stream = tmp_path / "two.subunit"
    stream.write_bytes(_subunit([("m.A.test_ok[id-1]", "success", ""),
                                 ("m.A.test_fail[id-2]", "fail", "")]).read())
    # A stand-in for `tempest run`: writes the stream, then waits like a slow test.
    pid_file = tmp_path / "pid"
    script = f"import os,sys,time; open({str(pid_file)!r},'w').write(str(os.getpid())); " \
             f"sys.stdout.buffer.write(open({str(stream)!r},'rb').read()); " \
             "sys.stdout.flush(); time.sleep(float(sys.argv[1]))"
    monkeypatch.setattr(tempest_run, "PROGRESS_SECONDS", 0.3)
    said: list[str] = []
    code = tempest_run._run_with_progress([sys.executable, "-c", script, "1.5"], tmp_path,
                                          tmp_path / "out.subunit", 5, said.append)
    assert code == 0
    assert said and said[-1].startswith("tempest: 2 of 5 reported (1 failed) after"), said

    def interrupt(line: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tempest_run._run_with_progress([sys.executable, "-c", script, "600"], tmp_path,
                                       tmp_path / "out2.subunit", 5, interrupt)
    assert not alive(int(pid_file.read_text()))  # the child did not outlive the interruption


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "2.5", "1000"])
def test_a_bad_worker_count_is_one_line_naming_the_variable(raw):
    from certkit.apitier.tempest_run import ENV_WORKERS, worker_count

    with pytest.raises(CertkitError, match=f"^{ENV_WORKERS}: .* is not a number of workers"):
        worker_count({ENV_WORKERS: raw})
    assert worker_count({ENV_WORKERS: "3"}) == 3
    assert worker_count({}) == 2 * (os.cpu_count() or 2)
