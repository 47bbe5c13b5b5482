"""A change's life after its trigger: abandoned or deleted changes never vote and their builds
stop; a restore starts nothing; a review Gerrit keeps refusing backs off, gives up once and
shows in `certkit ci status`."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time

from certkit.ci.runjob import JobRequest, run_job
from tests.ci.conftest import ROOT, upload, wait_for
from tests.ci.test_executor import _processes_with, write_repo


def test_abandon_cancels_running_and_queued_builds_and_never_votes(start, gerrit, manila_source,
                                                                   caplog):
    with caplog.at_level(logging.INFO, logger="certkit.ci"):
        listener, runner = start(pipeline={"concurrency": 1})
        runner.hold.clear()
        gerrit.wait_for_subscriber()
        upload(gerrit, manila_source, 2001)
        wait_for(lambda: runner.requests, what="the running build")
        upload(gerrit, manila_source, 2002)  # waits in the queue behind 2001
        wait_for(lambda: listener.queue.in_state("queued"), what="the queued buildset")
        gerrit.set_status(2001, "change-abandoned")
        gerrit.set_status(2002, "change-abandoned")
        wait_for(lambda: runner.requests[0].cancel.is_set(), what="the running build's cancel")
        wait_for(lambda: len(listener.queue.in_state("abandoned")) == 2, what="both abandoned")
        gerrit.set_status(2001, "change-restored")  # restoring is no new trigger
        time.sleep(1.5)
    assert [r.change.number for r in runner.requests] == [2001]
    assert gerrit.reviews() == []
    messages = [r.getMessage() for r in caplog.records]
    assert any("2001: openstack/manila abandoned; cancelled buildsets: 2001,1 (running); "
               "no vote will be posted" in m for m in messages)
    assert any(m.startswith("change-restored for 2001: nothing to do") for m in messages)


def test_deleted_change_and_an_abandon_missed_during_a_disconnect(start, gerrit, manila_source):
    listener, runner = start(pipeline={"concurrency": 1})
    runner.hold.clear()
    gerrit.wait_for_subscriber()
    upload(gerrit, manila_source, 2101)
    wait_for(lambda: runner.requests, what="the running build")
    upload(gerrit, manila_source, 2102)
    upload(gerrit, manila_source, 2103)
    wait_for(lambda: len(listener.queue.in_state("queued")) == 2, what="two queued")
    gerrit.set_status(2101, "change-deleted")
    wait_for(lambda: runner.requests[0].cancel.is_set(), what="the deleted change's cancel")
    gerrit.paused.set()  # the stream drops; 2102 is abandoned meanwhile and nobody hears it
    gerrit.drop_connections()
    gerrit.set_status(2102, "change-abandoned", emit=False)
    gerrit.paused.clear()
    wait_for(lambda: len(listener.queue.in_state("abandoned")) == 2, what="2102 abandoned")
    runner.hold.set()
    wait_for(lambda: gerrit.reviews(), what="2103's review")
    numbers = [r.change.number for r in runner.requests]
    assert numbers[0] == 2101 and numbers[-1] == 2103  # 2102 may have started before the gap
    assert all(r.cancel.is_set() for r in runner.requests if r.change.number == 2102)
    assert [r[-1] for r in gerrit.reviews()] == ["2103,1"]


def test_cancel_kills_the_ansible_process_tree(tmp_path):
    repo = write_repo(tmp_path / "repo")
    with (repo / "zuul.yaml").open("a") as config:
        config.write("- job: {name: hangs-long, parent: null, run: playbooks/hang.yaml}\n")
    request = JobRequest(job="hangs-long", config_dirs=[repo], work_root=tmp_path / "work",
                         log_root=tmp_path / "logs")
    results = []
    thread = threading.Thread(target=lambda: results.append(run_job(request)))
    thread.start()
    wait_for(lambda: _processes_with("303.25"), what="the playbook's processes")
    request.cancel.set()
    thread.join(timeout=60)
    assert results[0].result == "ABORTED"
    wait_for(lambda: not any(_processes_with(m) for m in ("301.25", "302.25", "303.25")),
             timeout=5, what="the whole tree gone")


def test_refused_review_backs_off_gives_up_once_and_shows_in_status(start, gerrit,
                                                                    manila_source, caplog,
                                                                    tmp_path):
    gerrit.refuse_reviews = "internal server error: label Verified is not permitted"
    with caplog.at_level(logging.INFO, logger="certkit.ci"):
        listener, runner = start(report={"retry_initial": 0.2, "retry_max": 0.4,
                                         "give_up_after": 2.5})
        gerrit.wait_for_subscriber()
        upload(gerrit, manila_source, 2201)
        wait_for(lambda: listener.queue.in_state("report_failed"), timeout=30,
                 what="the review given up")
        time.sleep(1.5)  # nothing more is attempted
    attempts = len(gerrit.reviews())
    assert 3 <= attempts <= 8  # backoff 0.2, 0.4, 0.4... within 2.5 s, not one every poll
    queries = [argv for _, argv in gerrit.commands if argv[:2] == ["gerrit", "query"]
               and "--comments" in argv]
    assert queries == []  # a refusal is certain: no "did it land?" query per attempt
    gave_up = [r.getMessage() for r in caplog.records if "gave up" in r.getMessage()]
    assert len(gave_up) == 1 and gave_up[0].startswith(f"2201,1: gave up posting the review "
                                                      f"after {attempts} attempts")
    assert "label Verified is not permitted" in gave_up[0]
    failed = listener.queue.in_state("report_failed")[0]
    assert failed.report_attempts == attempts and "not permitted" in failed.report_error
    status = subprocess.run([sys.executable, "-m", "certkit.cli", "ci", "status", "--config",
                             str(tmp_path / "ci.yaml")], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert status.returncode == 1, status.stderr  # a vote that failed for good
    assert "report_failed: 1" in status.stdout
    assert f"2201,1 report_failed after {attempts} attempts: " in status.stdout
    assert "not permitted" in status.stdout


def test_vote_on_a_closed_change_is_refused_and_not_retried_forever(start, gerrit,
                                                                      manila_source):
    listener, runner = start(report={"retry_initial": 0.2, "retry_max": 0.2,
                                     "give_up_after": 1.0})
    runner.hold.clear()
    gerrit.wait_for_subscriber()
    upload(gerrit, manila_source, 2301)
    wait_for(lambda: runner.requests, what="the build")
    # Abandoned while we were not listening (no event): Gerrit refuses the label.
    gerrit.changes[2301].status = "ABANDONED"
    runner.hold.set()
    wait_for(lambda: listener.queue.in_state("report_failed"), timeout=20, what="given up")
    assert gerrit.changes[2301].comments == []
