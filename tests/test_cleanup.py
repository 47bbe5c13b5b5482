"""The resource ledger: everything a run creates is deleted, also after a failure or Ctrl-C, and
what cannot be deleted is reported."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from certkit.harness import ledger as ledger_module
from certkit.harness.ledger import ResourceLedger
from certkit.manila_env import prepare_manila
from certkit.runner import run_certification
from tests.broken import lifecycle
from tests.conftest import ROOT, with_timeouts

prepare_manila()
from manila import exception  # noqa: E402


def test_ledger_deletes_newest_first_and_reports_failures():
    ledger = ResourceLedger(timeout=0.5)
    order = []
    ledger.track("share", "s1", "share-1", lambda: order.append("share-1"))
    ledger.track("snapshot", "n1", "snap-1", lambda: (_ for _ in ()).throw(RuntimeError("busy")))
    ledger.track("access_rule", "r1", "ip:1.2.3.4", lambda: order.append("rule"))
    done = ledger.track("share", "s2", "share-2", lambda: order.append("share-2"))
    ledger.release(done)
    leaks = ledger.cleanup()
    assert order == ["rule", "share-1"]
    assert [(leak.kind, leak.name) for leak in leaks] == [("snapshot", "snap-1")]
    assert "RuntimeError: busy" in leaks[0].error
    assert ledger.outstanding() == []


def test_ledger_retries_a_delete_the_back_end_refuses_for_a_while():
    ledger = ResourceLedger(timeout=10)
    attempts = []

    def busy_then_gone():
        attempts.append(1)
        if len(attempts) < 3:
            raise exception.ShareBusyException(reason="clone in progress")

    ledger.track("snapshot", "n1", "snap-1", busy_then_gone)
    assert ledger.cleanup() == [] and len(attempts) == 3


def test_ledger_gives_up_on_a_hanging_delete():
    ledger = ResourceLedger(timeout=0.2)
    ledger.track("share", "s1", "share-1", lambda: time.sleep(5))
    leaks = ledger.cleanup()
    assert len(leaks) == 1 and "did not return within 0.2 s" in leaks[0].error


def test_undeletable_share_is_reported_as_leak(dummy_profile):
    report = run_certification(with_timeouts(dummy_profile, cleanup=1),
                               driver_class=lifecycle.DeleteShareFails,
                               keyword="test_extend_share").report
    assert report["leaks"], "the share the check could not delete must be reported"
    assert report["leaks"][0]["kind"] == "share"
    assert report["leaks"][0]["name"].startswith("share-" + report["run_id"])
    assert "array is read-only" in report["leaks"][0]["error"]
    assert report["verdict"] == "not-certified"
    assert any("could not be deleted" in r for r in report["reasons"])


def test_every_created_object_carries_the_run_id(tmp_path, dummy_profile):
    journal = tmp_path / "journal"
    os.environ["CERTKIT_TEST_JOURNAL"] = str(journal)
    try:
        class Recording(lifecycle.JournalingDriver):
            def create_snapshot(self, context, snapshot, share_server=None):
                self._log(f"create_snapshot {snapshot['id']}")
                return lifecycle.DummyDriver.create_snapshot(self, context, snapshot, share_server)

        # Manage, replication and migration hand objects over to new ids (unmanage/promote), so they are
        # left out of this bookkeeping; their own checks verify they delete what they make.
        report = run_certification(dummy_profile, driver_class=Recording,
                                   keyword="not manage and not replica and not migration").report
    finally:
        del os.environ["CERTKIT_TEST_JOURNAL"]
    lines = journal.read_text().split()
    created = {lines[i + 1] for i in range(0, len(lines), 2) if lines[i].startswith("create")}
    deleted = {lines[i + 1] for i in range(0, len(lines), 2) if lines[i].startswith("delete")}
    assert created and all(obj.startswith(report["run_id"]) for obj in created)
    assert created <= deleted, f"never deleted: {created - deleted}"


def test_refused_deletes_share_one_retry_budget_per_run(monkeypatch):
    """A back end that refuses every delete costs the run one budget of retries, not one per
    check (a driver refusing every rule deletion once took 323 s instead of 2 s)."""
    monkeypatch.setattr(ledger_module, "RETRY_PAUSE", 0.05)
    ledger = ResourceLedger(timeout=0.3)
    attempts: list[str] = []

    def refuse(name):
        def delete():
            attempts.append(name)
            raise exception.ShareBusyException(reason="busy")
        return delete

    ledger.track("share", "s1", "share-1", refuse("share-1"))
    first = ledger.cleanup()
    ledger.track("share", "s2", "share-2", refuse("share-2"))
    second = ledger.cleanup()
    assert attempts.count("share-1") > 2, "a refused delete is retried while the budget lasts"
    assert attempts.count("share-2") == 1, "the budget is spent: the next check does not retry"
    assert [leak.name for leak in second] == ["share-1", "share-2"] and len(first) == 1
    assert "ShareBusyException" in second[1].error and "busy" in second[1].error


@pytest.mark.parametrize("violation", [KeyError("rule-7"), AssertionError("returned garbage")],
                         ids=["bare-python-exception", "contract-violation"])
def test_a_delete_that_violates_the_contract_is_not_retried(violation):
    ledger = ResourceLedger(timeout=10)
    attempts = []

    def delete():
        attempts.append(1)
        raise violation

    ledger.track("access_rule", "r1", "ip:10.0.0.1", delete)
    leaks = ledger.cleanup()
    assert len(attempts) == 1 and [leak.name for leak in leaks] == ["ip:10.0.0.1"]
    assert type(violation).__name__ in leaks[0].error


def test_ctrl_c_during_a_checks_cleanup_is_not_swallowed():
    ledger = ResourceLedger(timeout=5)
    ledger.track("share", "s1", "share-1", lambda: None)

    def interrupted():
        raise KeyboardInterrupt

    ledger.track("snapshot", "n1", "snap-1", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ledger.cleanup()
    assert [e.name for e in ledger.outstanding()] == ["snap-1", "share-1"], \
        "left for the run's final clean-up, not marked leaked"
    assert ledger.leaks == []
    with pytest.raises(KeyboardInterrupt):
        ledger.cleanup(final=True)
    assert sorted(leak.name for leak in ledger.leaks) == ["share-1", "snap-1"]
    assert all(leak.error == "cleanup interrupted" for leak in ledger.leaks)


def _interruptible_run(tmp_path, driver: str, *extra: str, env: dict | None = None):
    """Start `certkit run` on the dummy profile with another driver; wait for create_snapshot."""
    journal = tmp_path / "journal"
    profile = tmp_path / "interrupt.yaml"
    text = (ROOT / "driver_profiles" / "manila-dummy.yaml").read_text()
    text = text.replace("manila.tests.share.drivers.dummy.DummyDriver", driver)
    profile.write_text(text.replace("share_backend_name: manila-dummy", "share_backend_name: manila-dummy\n"
                                    "  san_password: ${CERTKIT_TEST_PASSWORD:-unset}"))
    report_path = tmp_path / "report.json"
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {**os.environ, "CERTKIT_TEST_JOURNAL": str(journal), "PYTHONPATH": str(ROOT),
           "TMPDIR": str(tmpdir), **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "certkit.cli", "run", str(profile), "--no-audit",
         "-k", "test_create_and_delete_snapshot", "--report", str(report_path), *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if journal.exists() and "create_snapshot" in journal.read_text():
            return proc, journal, report_path, tmpdir
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"the run never reached create_snapshot: {proc.communicate()}")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig,status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["ctrl-c", "sigterm"])
def test_a_signal_cleans_up_and_still_writes_the_report(tmp_path, sig, status):
    secret = "s1gn4l-s3cr3t-value"
    proc, journal, report_path, tmpdir = _interruptible_run(
        tmp_path, "tests.broken.lifecycle.JournalingDriver", env={"CERTKIT_TEST_PASSWORD": secret})
    # Mid-run, the generated manila.conf is already gone: even SIGKILL would leave no secret.
    left = [p for p in tmpdir.rglob("*") if p.is_file()]
    assert not [p for p in left if p.name == "manila.conf"], left
    assert not [p for p in left if secret.encode() in p.read_bytes()], left
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == status, (out, err)
    assert "Traceback" not in err
    entries = journal.read_text().split()
    share_id = entries[entries.index("create_share") + 1]
    snapshot_id = entries[entries.index("create_snapshot") + 1]
    assert f"delete_snapshot {snapshot_id}" in journal.read_text()
    assert f"delete_share {share_id}" in journal.read_text()
    report = json.loads(report_path.read_text())
    assert report["interrupted"] is True and report["verdict"] == "not-certified"
    assert "verdict: not-certified" in out


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_second_signal_stops_the_cleanup_and_lists_the_leaks(tmp_path):
    proc, journal, report_path, _ = _interruptible_run(tmp_path, "tests.hostile_drivers.SlowDeleteJournaling")
    proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    while "delete_snapshot" not in journal.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # the delete takes 60 s: stop waiting for it
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 143, (out, err)
    report = json.loads(report_path.read_text())
    assert report["interrupted"] is True and report["verdict"] == "not-certified"
    leaked = {leak["kind"] for leak in report["leaks"]}
    assert leaked == {"snapshot", "share"}, report["leaks"]
    assert "LEAKED: share" in out and "LEAKED: snapshot" in out


def test_plain_pytest_mode_cleans_up_at_the_end_of_the_session(tmp_path):
    """`pytest -p certkit.pytest_plugin --certkit-profile ...` deletes what the run still holds."""
    import uuid

    journal = tmp_path / "deleted"
    (tmp_path / "test_plain.py").write_text(
        "from certkit.contract.checks import check\n\n"
        f"@check('{uuid.uuid4()}', 'share')\n"
        "def test_leaves_an_object(certkit_run):\n"
        "    certkit_run.ledger.track('share', 's1', 'share-left', lambda: open("
        f"{str(journal)!r}, 'a').write('share-left\\n'))\n")
    status = pytest.main([str(tmp_path / "test_plain.py"), "-q", "-p", "certkit.pytest_plugin",
                          "--certkit-profile", str(ROOT / "driver_profiles" / "manila-dummy.yaml"),
                          "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-c", os.devnull])
    assert status == 0
    assert journal.read_text() == "share-left\n"


def test_a_first_signal_during_the_final_cleanup_does_not_stop_it(dummy_profile):
    """The run was over: the signal interrupts it, but the clean-up goes on; a second one ends it."""
    from certkit.session import CertificationRun

    run = CertificationRun(dummy_profile)
    deleted = []
    calls = {"n": 0}

    def signalled_once():
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt  # what the SIGTERM handler raises
        deleted.append("snap-1")

    run.ledger.track("share", "s1", "share-1", lambda: deleted.append("share-1"))
    run.ledger.track("snapshot", "n1", "snap-1", signalled_once)
    run.finish_cleanup()
    assert run.interrupted and not run.cleanup_interrupted
    assert deleted == ["snap-1", "share-1"] and run.ledger.leaks == []

    run.ledger.track("share", "s2", "share-2", lambda: (_ for _ in ()).throw(KeyboardInterrupt()))
    run.finish_cleanup()
    assert run.cleanup_interrupted
    assert [(leak.name, leak.error) for leak in run.ledger.leaks] == [("share-2", "cleanup interrupted")]
