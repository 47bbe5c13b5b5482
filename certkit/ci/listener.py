"""`certkit ci listen`: the vendor's third-party CI loop on one machine.

One thread reads Gerrit's stream-events (reconnecting with backoff and recovering the gap with
`gerrit query`), turns events into triggers and commits them to the durable queue. The main
loop runs queued buildsets (bounded concurrency), reports each once with `gerrit review` and
publishes reports and observed CI votes to the dashboard. Every bad input is one log line.
"""

from __future__ import annotations

import datetime
import json
import logging
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable

from certkit.ci.config import CIConfig, ProjectFilter
from certkit.ci.diskspace import enforce_disk_limit, remove_work_dirs
from certkit.ci.events import (EventError, Trigger, author_of, change_of, event_int, event_time,
                               parse_event, trigger_for)
from certkit.ci.executor import BuildResult
from certkit.ci.gerrit import GerritError, GerritRefused, GerritSSH
from certkit.ci.logline import oneline
from certkit.ci.logsetup import configure as configure_logging
from certkit.ci.message import JobLine, parse_zuul_message, succeeded, zuul_message
from certkit.ci.proctree import kill_tree
from certkit.ci.queue import Buildset, BuildQueue
from certkit.ci.runjob import JobRequest, run_job
from certkit.ci.workspace import Change
from certkit.ci.zuulconfig import load_layout
from certkit.ci.jobs import freeze_job
from certkit.errors import CertkitError

log = logging.getLogger("certkit.ci")
Runner = Callable[[JobRequest], BuildResult]
GAP_MARGIN = 120  # seconds of overlap when asking Gerrit what was missed
LIFECYCLE = ("change-abandoned", "change-deleted", "change-restored", "wip-state-changed",
             "private-state-changed")
_ZUUL_HEADER = "Build succeeded", "Build failed"


class Listener:
    """The CI loop: stream -> queue -> builds -> one report per buildset."""

    def __init__(self, config: CIConfig, *, runner: Runner = run_job,
                 gerrit_factory: Callable[[], GerritSSH] | None = None) -> None:
        self.config = config
        self.runner = runner
        self.gerrit_factory = gerrit_factory or (lambda: GerritSSH(config.gerrit))
        config.state_dir.mkdir(parents=True, exist_ok=True)
        self.queue = BuildQueue(config.state_dir / "queue.sqlite")
        self.stop_event = threading.Event()
        self._wake = threading.Condition()
        self._active: dict[int, tuple[threading.Thread, threading.Event]] = {}
        self._commands: GerritSSH | None = None
        self._commands_lock = threading.Lock()
        self._last_seen = int(self.queue.meta("last_event_time") or 0)
        self._last_saved = self._last_seen
        self._saved_at = 0.0
        self._flusher: threading.Thread | None = None
        self.publisher = None
        if config.dashboard:
            from certkit.publish import Publisher

            self.publisher = Publisher(config.dashboard.url, config.dashboard.token,
                                       config.state_dir / "spool")
        self.layout = load_layout(config.pipeline.zuul_config or _default_dirs())
        for job in config.pipeline.jobs:  # fail at start, not at the first event
            freeze_job(self.layout, job)

    # -- the loop -------------------------------------------------------------------------
    def serve_forever(self) -> None:
        """Run until SIGTERM/SIGINT (or stop())."""
        if not logging.getLogger().handlers:
            configure_logging()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stop())
        self.recover()
        stream = threading.Thread(target=self._stream_loop, name="gerrit-stream", daemon=True)
        stream.start()
        log.info("listening: %s, pipeline %s, jobs %s, report mode %s",
                 self.config.gerrit.host, self.config.pipeline.name,
                 ", ".join(self.config.pipeline.jobs), self.config.report.mode)
        next_housekeeping = 0.0
        while not self.stop_event.is_set():
            self._start_builds()
            if time.monotonic() >= next_housekeeping:
                self._housekeeping()
                next_housekeeping = time.monotonic() + 1
            with self._wake:
                self._wake.wait(0.5)
        for _, cancel in list(self._active.values()):
            cancel.set()
        for thread, _ in list(self._active.values()):
            thread.join(timeout=60)
        self._save_last_seen(force=True)
        stream.join(timeout=5)
        log.info("stopped")

    def stop(self) -> None:
        self.stop_event.set()
        with self._wake:
            self._wake.notify_all()

    def _start_builds(self) -> None:
        for bs_id in [i for i, (t, _) in self._active.items() if not t.is_alive()]:
            del self._active[bs_id]
        while len(self._active) < self.config.pipeline.concurrency and not self.stop_event.is_set():
            buildset = self.queue.claim()
            if buildset is None:
                return
            cancel = threading.Event()
            thread = threading.Thread(target=self._run_buildset, args=(buildset, cancel),
                                      name=f"buildset-{buildset.id}", daemon=True)
            self._active[buildset.id] = (thread, cancel)
            thread.start()

    def _housekeeping(self) -> None:
        self._save_last_seen()
        for buildset in self.queue.due_reports(time.time()):
            if buildset.id not in self._active:
                self._deliver(buildset, check_first=buildset.report_uncertain)
        if self.publisher and not (self._flusher and self._flusher.is_alive()):
            # Retries with backoff may take minutes while the dashboard is down: not here.
            self._flusher = threading.Thread(target=self.publisher.flush, name="publish",
                                             daemon=True)
            self._flusher.start()

    # -- start-up recovery ----------------------------------------------------------------
    def recover(self) -> None:
        """After a crash: kill orphaned ansible trees, re-queue interrupted builds."""
        for pid_file in (self.config.state_dir / "work").glob("*/ansible.pid"):
            try:
                pid = int(pid_file.read_text().strip())
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except (OSError, ValueError):
                continue
            if f"ZUUL_JOBDIR={pid_file.parent}".encode() in environ:
                log.warning("killing the orphaned ansible-playbook tree of %s (pid %d)",
                            pid_file.parent.name, pid)
                kill_tree(pid)
        remove_work_dirs(self.config.state_dir / "work")  # their process trees are gone now
        enforce_disk_limit(self.config.state_dir, self.config.disk_max_mb)
        for buildset in self.queue.in_state("running"):
            self.queue.set_state(buildset.id, "queued", only_from=("running",))
            log.warning("re-queued %s,%s (interrupted while running)", buildset.change,
                        buildset.patchset)

    # -- events ---------------------------------------------------------------------------
    def handle_line(self, line: str) -> Trigger | None:
        """Process one stream-events line; never raises."""
        try:
            return self._handle(parse_event(line))
        except EventError as exc:
            log.warning("ignored event: %s: %s", exc, oneline(line, 80))
        except CertkitError as exc:
            log.error("event not queued: %s", exc)
        except Exception as exc:  # noqa: BLE001 - a bug in one event must not stop the loop
            log.error("event handling failed: %s: %s", type(exc).__name__, oneline(exc))
        return None

    def _handle(self, event: dict[str, Any]) -> Trigger | None:
        when = event_time(event)
        if when and when > self._last_seen:
            self._last_seen = when
            self._save_last_seen()
        if event["type"] == "comment-added":
            self._observe_ci_comment(event)
        if event["type"] in LIFECYCLE:
            self._lifecycle(event)
            return None
        trigger, why = trigger_for(event, self.config.pipeline, self.config.gerrit.username)
        if trigger is None:
            if log.isEnabledFor(logging.INFO):  # most of a busy stream: escape only if shown
                log.info("ignored %s: %s", oneline(event["type"], 40), oneline(why, 240))
            return None
        project = self.config.pipeline.projects[trigger.change.project]
        if project.files and not self._files_match(trigger.change, project):
            log.info("ignored %s for %s,%s: no changed file matches the files filter of %s",
                     trigger.kind, trigger.change.number, trigger.change.patchset,
                     trigger.change.project)
            return None
        buildset, superseded = self.queue.enqueue(trigger)
        for old in superseded:
            log.info("%s,%s superseded by patch set %s", old.change, old.patchset,
                     trigger.change.patchset)
            if old.id in self._active:
                self._active[old.id][1].set()
        if buildset is None:
            log.info("ignored %s for %s,%s: already queued, running or done (or a newer patch "
                     "set exists)", trigger.kind, trigger.change.number, trigger.change.patchset)
            return None
        log.info("queued %s,%s (%s) of %s", trigger.change.number, trigger.change.patchset,
                 trigger.kind, trigger.change.project)
        self._save_last_seen(force=True)
        with self._wake:
            self._wake.notify_all()
        return trigger

    def _lifecycle(self, event: dict[str, Any]) -> None:
        """change-abandoned/-deleted cancel the change's builds (as Zuul's removeAbandonedChange);
        change-restored, WIP and private changes start nothing (Zuul's check pipeline neither)."""
        kind = event["type"]
        change = event.get("change")
        project = change.get("project") if isinstance(change, dict) else None
        number = event_int(change.get("number")) if isinstance(change, dict) else None
        if not isinstance(project, str) or not number or number < 1:
            log.info("ignored %s: no change project or number", kind)
            return
        if project not in self.config.pipeline.projects:
            log.info("ignored %s: project %s not configured", kind, oneline(project, 80))
            return
        if kind not in ("change-abandoned", "change-deleted"):
            log.info("%s for %s: nothing to do (a new patch set or a recheck starts a build)",
                     kind, number)
            return
        cancelled = self.queue.cancel_change(project, number)
        for buildset in cancelled:
            active = self._active.get(buildset.id)
            if active:
                active[1].set()  # the executor kills the ansible process tree
        shown = ", ".join(f"{b.change},{b.patchset} ({b.state})" for b in cancelled) or "none"
        log.info("%s: %s %s; cancelled buildsets: %s; no vote will be posted", number,
                 project, kind.split("-", 1)[1], shown)

    def _files_match(self, change: Change, project: ProjectFilter) -> bool:
        try:
            rows = self._command(lambda g: g.query(f"change:{change.number}", "--patch-sets",
                                                   "--files"))
        except GerritError as exc:
            log.warning("%s,%s: cannot read the changed files (%s); testing it anyway",
                        change.number, change.patchset, oneline(exc))
            return True
        for row in rows:
            for ps in row.get("patchSets") or []:
                if str(ps.get("number")) == str(change.patchset):
                    return project.file_matches([str(f.get("file", ""))
                                                 for f in ps.get("files") or []])
        return True

    def _observe_ci_comment(self, event: dict[str, Any]) -> None:
        """POST what a CI account said to the dashboard's ci-votes (any CI, ours included)."""
        if not (self.publisher and self.config.dashboard and self.config.dashboard.ci_votes):
            return
        comment = event.get("comment")
        author = author_of(event)
        if not isinstance(comment, str) or not author:
            return
        body_text = comment.split("\n\n", 1)[-1] if comment.startswith("Patch Set") else comment
        if author not in self.config.report.ci_accounts and author != self.config.gerrit.username \
                and not body_text.lstrip().startswith(_ZUUL_HEADER):
            return
        try:
            change = change_of(event)
        except EventError:
            return
        verified = 0
        for approval in event.get("approvals") or []:
            if isinstance(approval, dict) and approval.get("type") == self.config.report.label:
                try:
                    verified = max(-1, min(1, int(approval.get("value", 0))))
                except (TypeError, ValueError):
                    verified = 0
        seen = datetime.datetime.fromtimestamp(event_time(event) or time.time(),
                                               datetime.timezone.utc)
        body = {"source": "gerrit", "account": author, "project": change.project,
                "change": change.number, "patchset": change.patchset, "branch": change.branch,
                "verified": verified,
                "jobs": [{k: j[k] for k in ("name", "result", "url")}
                         for j in parse_zuul_message(body_text)],
                "seen_at": seen.isoformat().replace("+00:00", "Z"), "comment": comment}
        self.publisher.spool("ci-votes", body)

    # -- Gerrit connections ----------------------------------------------------------------
    def _command(self, action: Callable[[GerritSSH], Any]) -> Any:
        """Run an action on the command connection, reconnecting once if it dropped."""
        with self._commands_lock:
            for attempt in (1, 2):
                if self._commands is None:
                    self._commands = self.gerrit_factory()
                    self._commands.connect()
                try:
                    return action(self._commands)
                except GerritRefused:
                    raise  # Gerrit answered: the connection is fine, the command is not
                except GerritError:
                    self._commands.close()
                    self._commands = None
                    if attempt == 2:
                        raise
        return None

    def _stream_loop(self) -> None:
        delay = self.config.backoff_initial
        while not self.stop_event.is_set():
            gerrit = self.gerrit_factory()
            try:
                gerrit.connect()
            except GerritError as exc:
                log.error("gerrit: %s; retrying in %.1f s", oneline(exc, 300), delay)
                log.debug("gerrit connection failure", exc_info=True)
                self.stop_event.wait(delay)
                delay = min(delay * 2, self.config.backoff_max)
                continue
            log.info("connected to %s", gerrit.where)
            connected = time.monotonic()
            try:
                # Subscribe first, then ask for the gap: nothing falls between the two.
                channel = gerrit.open_stream()
                self.recover_gap(gerrit)
                for line in gerrit.stream_events(self.stop_event, channel):
                    self.handle_line(line)
            except (GerritError, OSError, EOFError) as exc:
                log.warning("gerrit stream: %s", oneline(exc))
            except Exception as exc:
                log.warning("gerrit stream: %s: %s", type(exc).__name__, oneline(exc))
                log.debug("gerrit stream failure", exc_info=True)
            finally:
                gerrit.close()
            if self.stop_event.is_set():
                break
            if time.monotonic() - connected > 60:
                delay = self.config.backoff_initial
            log.warning("gerrit stream ended; reconnecting in %.1f s", delay)
            self.stop_event.wait(delay)
            delay = min(delay * 2, self.config.backoff_max)

    def recover_gap(self, gerrit: GerritSSH) -> int:
        """Ask Gerrit for what happened while we were not listening; returns triggers queued."""
        if not self._last_seen:
            self._last_seen = int(time.time())
            self._save_last_seen(force=True)
            return 0
        since = datetime.datetime.fromtimestamp(self._last_seen - GAP_MARGIN, datetime.timezone.utc)
        queued = 0
        for name in self.config.pipeline.projects:
            query = f'project:{name} status:open after:"{since:%Y-%m-%d %H:%M:%S} +0000"'
            try:
                rows = gerrit.query(query, "--patch-sets", "--comments", "--current-patch-set")
            except GerritError as exc:
                log.warning("gap recovery for %s: %s", name, exc)
                continue
            for event in _events_from_query(rows, self._last_seen - GAP_MARGIN):
                if self.handle_line(json.dumps(event)):
                    queued += 1
        if queued:
            log.info("gap recovery: %d trigger(s) queued from gerrit query", queued)
        self._recover_closed(gerrit)
        return queued

    def _recover_closed(self, gerrit: GerritSSH) -> None:
        """Changes abandoned or deleted while we were not listening: cancel their builds."""
        pending = {(b.project, b.change) for b in self.queue.in_state("queued", "running",
                                                                       "reporting")}
        for project, number in sorted(pending):
            try:
                rows = gerrit.query(f"change:{number}")
            except GerritError as exc:
                log.warning("gap recovery: status of %s: %s", number, oneline(exc))
                continue
            row = next((r for r in rows if r.get("project") == project), None)
            status = "DELETED" if row is None else str(row.get("status"))
            if status in ("ABANDONED", "DELETED"):
                kind = "change-abandoned" if status == "ABANDONED" else "change-deleted"
                self._lifecycle({"type": kind, "change": {"project": project,
                                                          "number": number}})

    def _save_last_seen(self, force: bool = False) -> None:
        """Persist the newest event time (the gap query starts there); at most once a second."""
        if self._last_seen == self._last_saved:
            return
        if force or time.monotonic() - self._saved_at >= 1.0:
            self.queue.set_meta("last_event_time", str(self._last_seen))
            self._last_saved = self._last_seen
            self._saved_at = time.monotonic()

    # -- builds and reports ----------------------------------------------------------------
    def _run_buildset(self, buildset: Buildset, cancel: threading.Event) -> None:
        try:
            self._run_jobs(buildset, cancel)
        except Exception as exc:  # noqa: BLE001 - never lose the loop to one buildset
            log.error("%s,%s: buildset failed: %s: %s", buildset.change, buildset.patchset,
                      type(exc).__name__, oneline(exc))
            self.queue.set_state(buildset.id, "queued", only_from=("running",))
        finally:
            try:
                enforce_disk_limit(self.config.state_dir, self.config.disk_max_mb)
            except OSError as exc:
                log.error("disk.max_mb: %s", oneline(exc))
            with self._wake:
                self._wake.notify_all()

    def _run_jobs(self, buildset: Buildset, cancel: threading.Event) -> None:
        change = buildset.as_change()
        for job in self.config.pipeline.jobs:
            if cancel.is_set():
                break
            request = JobRequest(job=job, config_dirs=self.config.pipeline.zuul_config,
                                 work_root=self.config.state_dir / "work", log_root=Path(),
                                 change=change, git_url=self.config.gerrit.git_url,
                                 canonical_hostname=self.config.gerrit.canonical_hostname,
                                 pipeline=self.config.pipeline.name, buildset=buildset.uuid,
                                 cancel=cancel, hidden_env=self._secret_env_names())
            request.log_root = self._log_dir(change, job, request.build)
            request.on_start = lambda j=job: log.info("build started: %s for %s,%s", j,
                                                      change.number, change.patchset)
            try:
                result = self.runner(request)
            except CertkitError as exc:
                result = BuildResult(job=job, build=request.build, result="ERROR",
                                     log_dir=request.log_root, started_at="", duration=0.0,
                                     error=str(exc))
            finally:
                shutil.rmtree(request.work_root / request.build, ignore_errors=True)
            log_url = self._log_url(change, job, request.build, request.log_root)
            self.queue.record_build(buildset.id, job, request.build, result.result,
                                    str(request.log_root), log_url, result.duration,
                                    result.voting, result.error)
            log.info("%s,%s: %s %s%s", change.number, change.patchset, job, result.result,
                     f" ({oneline(result.error)})" if result.error else "")
            self._publish_report(result)
        if self.stop_event.is_set() and self.queue.state_of(buildset.id) == "running":
            self.queue.set_state(buildset.id, "queued", only_from=("running",))
            return
        if cancel.is_set() or not self.queue.set_state(buildset.id, "reporting",
                                                       only_from=("running",)):
            log.info("%s,%s: %s, not reported", change.number, change.patchset,
                     self.queue.state_of(buildset.id))
            return
        lines = [JobLine(name=b["job"], url=b["log_url"], result=b["result"] or "ERROR",
                         duration=b["duration"] or 0.0, voting=bool(b["voting"]))
                 for b in self.queue.builds(buildset.id)]
        buildset_url = (self.config.report.buildset_url.format(buildset=buildset.uuid)
                        if self.config.report.buildset_url else None)
        self.queue.set_message(buildset.id, zuul_message(self.config.pipeline.name, lines,
                                                         buildset_url))
        self._deliver(self.queue.get(buildset.id), check_first=False)

    def _deliver(self, buildset: Buildset, *, check_first: bool) -> None:
        """Post the buildset's review exactly once (check Gerrit first after a crash)."""
        if self.queue.state_of(buildset.id) != "reporting":  # abandoned meanwhile
            return
        builds = self.queue.builds(buildset.id)
        message = self.queue.message(buildset.id)
        lines = [JobLine(b["job"], b["log_url"], b["result"] or "ERROR", b["duration"] or 0.0,
                         bool(b["voting"])) for b in builds]
        vote = 1 if succeeded(lines) else -1
        mode = self.config.report.mode
        where = f"{buildset.change},{buildset.patchset}"
        if mode == "dry-run":
            log.info("dry-run: would review %s with %s=%+d: %s", where, self.config.report.label,
                     vote, oneline(message, 400))
            self.queue.set_state(buildset.id, "reported", only_from=("reporting",))
            return
        try:
            if check_first and self._already_reported(buildset):
                log.info("%s: the review had already landed before the restart", where)
                self.queue.set_state(buildset.id, "reported", only_from=("reporting",))
                return
            labels = {self.config.report.label: vote} if mode == "vote" else {}
            self._command(lambda g: g.review(buildset.project, buildset.change,
                                             buildset.patchset, message, labels,
                                             f"autogenerated:certkit:{self.config.pipeline.name}"))
        except GerritError as exc:
            self._review_failed(buildset, exc)
            return
        self.queue.set_state(buildset.id, "reported", only_from=("reporting",))
        log.info("reported %s: %s", where,
                 f"{self.config.report.label}={vote:+d}" if mode == "vote" else "comment only")

    def _review_failed(self, buildset: Buildset, exc: GerritError) -> None:
        """Back off exponentially; give up after report.give_up_after with one ERROR line."""
        report = self.config.report
        where = f"{buildset.change},{buildset.patchset}"
        attempts = buildset.report_attempts + 1
        elapsed = time.time() - (buildset.report_started or time.time())
        delay = min(report.retry_initial * 2 ** (attempts - 1), report.retry_max)
        error = oneline(exc, 300)
        if elapsed + delay > report.give_up_after:
            self.queue.report_failed_attempt(buildset.id, error, None, False)
            log.error("%s: gave up posting the review after %d attempts over %.0f s "
                      "(report.give_up_after %.0f s): %s; see `certkit ci status`", where,
                      attempts, elapsed, report.give_up_after, error)
            return
        self.queue.report_failed_attempt(buildset.id, error, time.time() + delay,
                                         not isinstance(exc, GerritRefused))
        log.warning("%s: review not posted (attempt %d): %s; next attempt in %.1f s", where,
                    attempts, error, delay)

    def _already_reported(self, buildset: Buildset) -> bool:
        rows = self._command(lambda g: g.query(f"change:{buildset.change}", "--comments"))
        since = (buildset.report_started or 0) - 5
        for row in rows:
            for comment in row.get("comments") or []:
                reviewer = comment.get("reviewer") or {}
                text = str(comment.get("message", ""))
                if reviewer.get("username") == self.config.gerrit.username and \
                        (comment.get("timestamp") or 0) >= since and \
                        text.startswith(f"Patch Set {buildset.patchset}:"):
                    return True
        return False

    def _publish_report(self, result: BuildResult) -> None:
        if not self.publisher or not result.report_path:
            return
        try:
            report = json.loads(result.report_path.read_text())
        except (OSError, ValueError) as exc:
            log.error("%s: report unreadable: %s", result.report_path, oneline(exc))
            return
        outcome = self.publisher.submit("reports", report)
        log.info("published %s: %s %s", result.job, outcome.status, outcome.detail)

    def _secret_env_names(self) -> tuple[str, ...]:
        """Environment variables the configuration names as secrets: never for playbooks."""
        names = [self.config.gerrit.key_passphrase_env or ""]
        if self.config.dashboard:
            names.append(self.config.dashboard.token_env)
        return tuple(n for n in names if n)

    def _log_dir(self, change: Change, job: str, build: str) -> Path:
        return (self.config.state_dir / "logs" / f"{change.number % 100:02d}" / str(change.number)
                / str(change.patchset) / self.config.pipeline.name / job / build[:7])

    def _log_url(self, change: Change, job: str, build: str, log_dir: Path) -> str:
        return self.config.report.log_url.format(
            change=change.number, change_mod=f"{change.number % 100:02d}",
            patchset=change.patchset, pipeline=self.config.pipeline.name, job=job, build=build,
            build_short=build[:7], log_dir=log_dir)


def _default_dirs() -> list[Path]:
    from certkit.ci.runjob import default_config_dirs

    return default_config_dirs()


def _events_from_query(rows: list[dict[str, Any]], since: int) -> list[dict[str, Any]]:
    """patchset-created and comment-added events rebuilt from `gerrit query` rows."""
    events = []
    for row in rows:
        change = {k: row.get(k) for k in ("project", "branch", "id", "number", "subject", "owner",
                                          "url", "status", "topic")}
        patch_sets = {str(ps.get("number")): ps for ps in row.get("patchSets") or []
                      if isinstance(ps, dict)}
        for ps in patch_sets.values():
            created = ps.get("createdOn") or 0
            if isinstance(created, int) and created >= since:
                events.append({"type": "patchset-created", "change": change, "patchSet": ps,
                               "uploader": ps.get("uploader"), "eventCreatedOn": created})
        current = row.get("currentPatchSet") or {}
        for comment in row.get("comments") or []:
            when = comment.get("timestamp") or 0
            if not isinstance(when, int) or when < since:
                continue
            text = str(comment.get("message", ""))
            number = text.split(":", 1)[0].replace("Patch Set", "").strip()
            ps = patch_sets.get(number, current)
            events.append({"type": "comment-added", "change": change, "patchSet": ps,
                           "author": comment.get("reviewer"), "comment": text,
                           "eventCreatedOn": when})
    return events
