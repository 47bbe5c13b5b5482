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

from certkit.harness.ledger import ResourceLedger
from certkit.runner import run_certification
from tests.broken import lifecycle
from tests.conftest import ROOT, with_timeouts


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
            raise RuntimeError("clone in progress")

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


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_cleans_up_and_still_writes_the_report(tmp_path):
    journal = tmp_path / "journal"
    profile = tmp_path / "interrupt.yaml"
    text = (ROOT / "driver_profiles" / "manila-dummy.yaml").read_text()
    profile.write_text(text.replace("manila.tests.share.drivers.dummy.DummyDriver",
                                    "tests.broken.lifecycle.JournalingDriver"))
    report_path = tmp_path / "report.json"
    env = {**os.environ, "CERTKIT_TEST_JOURNAL": str(journal), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "certkit.cli", "run", str(profile), "--no-audit",
         "-k", "test_create_and_delete_snapshot", "--report", str(report_path)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if journal.exists() and "create_snapshot" in journal.read_text():
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail(f"the run never reached create_snapshot: {proc.communicate()}")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err
    entries = journal.read_text().split()
    share_id = entries[entries.index("create_share") + 1]
    snapshot_id = entries[entries.index("create_snapshot") + 1]
    assert f"delete_snapshot {snapshot_id}" in journal.read_text()
    assert f"delete_share {share_id}" in journal.read_text()
    report = json.loads(report_path.read_text())
    assert report["interrupted"] is True and report["verdict"] == "not-certified"
