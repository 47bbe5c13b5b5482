"""Run one frozen Zuul job on this machine with the real ansible-playbook, as Zuul's executor does.

Phases: pre-run (a failure is retried up to `attempts`, then RETRY_LIMIT), run (FAILURE on a
failed task), post-run (POST_FAILURE when the run succeeded), cleanup-run (always). `timeout`
bounds pre-run + run, `post-timeout` each post/cleanup playbook; on a timeout or a cancel the
whole ansible process tree is killed. The log directory is Zuul-shaped: job-output.txt,
job-output.json, zuul-info/inventory.yaml, plus whatever the playbooks put in log_root.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from certkit.ci.buildsettings import BuildSettings
from certkit.ci.jobs import FrozenJob, Playbook, resolve_nodeset
from certkit.ci.proctree import kill_tree
from certkit.ci.workspace import Project
from certkit.ci.zuulconfig import ZuulLayout
from certkit.ci.unsafe import unsafe_dump
from certkit.ci.zuulvars import BuildContext, inventory, with_unsafe_zuul

RESULTS = ("SUCCESS", "FAILURE", "POST_FAILURE", "TIMED_OUT", "RETRY_LIMIT", "ERROR", "ABORTED")
PLUGINS = Path(__file__).parent / "ansible"
# Variables of the CI process that playbooks must never see.
SECRET_ENV_PREFIXES = ("CERTKIT_DASHBOARD_TOKEN", "CERTKIT_GERRIT_")


@dataclass
class BuildResult:
    """What Zuul would report for one build."""

    job: str
    build: str
    result: str
    log_dir: Path
    started_at: str
    duration: float
    voting: bool = True
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def report_path(self) -> Path | None:
        """The certkit report the job's post-run collected into its logs, if any."""
        path = self.log_dir / "certkit" / "report.json"
        return path if path.is_file() else None


class JobOutput:
    """job-output.txt: every line timestamped, as Zuul's console log."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
        with self._lock:
            for line in text.rstrip("\n").split("\n"):
                self._handle.write(f"{stamp} | {line}\n")
            self._handle.flush()

    def close(self) -> None:
        self._handle.close()


@dataclass
class Build(BuildSettings):
    """One build of a frozen job: workspace, logs, and the ansible runs."""

    layout: ZuulLayout
    job: FrozenJob
    projects: list[Project]
    project: Project
    build_dir: Path
    log_dir: Path
    tenant: str = "certkit"
    environment: dict[str, str] = field(default_factory=dict)

    def run(self) -> BuildResult:
        """Run the job's phases and return Zuul's result for it."""
        started = time.monotonic()
        started_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = JobOutput(self.log_dir / "job-output.txt")
        self._entries: list[dict[str, Any]] = []
        out.write(f"Job console starting: {self.job.name} build {self.build}")
        try:
            result, error = self._run_attempts(out)
        finally:
            self._write_json()
        data = self._return_data()
        duration = time.monotonic() - started
        out.write(f"Job result: {result} in {duration:.1f} s" + (f" ({error})" if error else ""))
        out.close()
        return BuildResult(job=self.job.name, build=self.build, result=result,
                           log_dir=self.log_dir, started_at=started_at, duration=duration,
                           voting=self.job.voting, error=error, data=data)

    def _run_attempts(self, out: JobOutput) -> tuple[str, str | None]:
        missing = [p for p in self._all_playbooks() if not p.path.is_file()]
        if missing:
            return "ERROR", f"playbook {missing[0].path} of job {missing[0].job} does not exist"
        for attempt in range(1, self.job.attempts + 1):
            self._prepare(attempt)
            result, error = self._run_once(out)
            if result != "RETRY":
                return result, error
            out.write(f"Attempt {attempt} of {self.job.attempts} needs a retry: {error}")
        return "RETRY_LIMIT", error

    def _all_playbooks(self) -> list[Playbook]:
        job = self.job
        return [*job.pre_run, *job.run, *job.post_run, *job.cleanup_run]

    def _prepare(self, attempt: int) -> None:
        ansible_dir = self.build_dir / "ansible"
        ansible_dir.mkdir(parents=True, exist_ok=True)
        work_root = self.build_dir / "work"
        (work_root / "src").mkdir(parents=True, exist_ok=True)
        ctx = BuildContext(job=self.job, build=self.build, buildset=self.buildset,
                           pipeline=self.pipeline, tenant=self.tenant, project=self.project,
                           projects=self.projects, change=self.change, work_root=work_root,
                           log_root=self.log_dir, attempt=attempt)
        for project in self.projects:
            link = work_root / project.src_dir
            if not link.exists() and link.resolve() != project.path.resolve():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(project.path.resolve(), target_is_directory=True)
        nodeset = resolve_nodeset(self.layout, self.job)
        inv = inventory(ctx, nodeset, self.node_vars, sys.executable)
        (self.log_dir / "zuul-info").mkdir(parents=True, exist_ok=True)
        # The log copy is for people (plain, as Zuul's debug inventory); ansible reads the
        # zuul variable tagged !unsafe: change data is never templated.
        (self.log_dir / "zuul-info" / "inventory.yaml").write_text(
            yaml.safe_dump(inv, sort_keys=False, default_flow_style=False))
        (ansible_dir / "inventory.yaml").write_text(unsafe_dump(with_unsafe_zuul(inv)))
        (ansible_dir / "extra_vars.yaml").write_text(yaml.safe_dump(self.job.extra_vars or {}))
        (ansible_dir / "ansible.cfg").write_text(
            "[defaults]\n"
            f"action_plugins = {PLUGINS / 'action'}\n"
            f"callback_plugins = {PLUGINS / 'callback'}\n"
            f"connection_plugins = {PLUGINS / 'connection'}\n"
            "callbacks_enabled = zuul_json\n"
            "stdout_callback = default\n"
            "retry_files_enabled = False\n"
            "nocows = 1\n"
            "interpreter_python = auto_silent\n"
            f"local_tmp = {ansible_dir / 'tmp'}\n"
            "[ssh_connection]\n"
            "pipelining = True\n")

    def _run_once(self, out: JobOutput) -> tuple[str, str | None]:
        job = self.job
        deadline = time.monotonic() + job.timeout if job.timeout else None
        result: str = "SUCCESS"
        error: str | None = None
        for index, playbook in enumerate(job.pre_run):
            status, detail = self._playbook(out, "pre", index, playbook, deadline)
            if status != "ok":
                result, error = self._main_result(status, detail, pre=True)
                break
        else:
            for index, playbook in enumerate(job.run):
                status, detail = self._playbook(out, "run", index, playbook, deadline)
                if status != "ok":
                    result, error = self._main_result(status, detail, pre=False)
                    break
        for index, playbook in enumerate(job.post_run):
            if result == "ABORTED" and not playbook.cleanup:
                continue
            status, detail = self._playbook(out, "post", index, playbook,
                                            time.monotonic() + job.post_timeout,
                                            ignore_cancel=playbook.cleanup)
            if status != "ok" and result == "SUCCESS":
                result, error = "POST_FAILURE", detail
        for index, playbook in enumerate(job.cleanup_run):
            self._playbook(out, "cleanup", index, playbook, time.monotonic() + job.post_timeout,
                           ignore_cancel=True)
        return result, error

    @staticmethod
    def _main_result(status: str, detail: str, *, pre: bool) -> tuple[str, str]:
        if status == "timeout":
            return "TIMED_OUT", detail
        if status == "aborted":
            return "ABORTED", detail
        if status == "error":
            return "ERROR", detail
        if pre or status == "unreachable":
            return "RETRY", detail
        return "FAILURE", detail

    def _playbook(self, out: JobOutput, phase: str, index: int, playbook: Playbook,
                  deadline: float | None, ignore_cancel: bool = False) -> tuple[str, str]:
        """Run one playbook; ('ok'|'failed'|'unreachable'|'timeout'|'aborted'|'error', detail)."""
        label = f"{phase.upper()}-RUN" if phase != "run" else "RUN"
        ansible_dir = self.build_dir / "ansible"
        part = ansible_dir / f"{phase}-{index}.json"
        out.write(f"{label} START: [untrusted : {playbook.path}]")
        if deadline is not None and deadline <= time.monotonic():
            out.write(f"{label} END RESULT_TIMED_OUT: [untrusted : {playbook.path}]")
            return "timeout", f"{phase} playbook {playbook.path.name}: no time left"
        command = [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook.path),
                   "-i", str(ansible_dir / "inventory.yaml"),
                   "-e", f"@{ansible_dir / 'extra_vars.yaml'}"]
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(SECRET_ENV_PREFIXES) and k not in self.hidden_env}
        env.update(self.environment)
        env.update(ANSIBLE_CONFIG=str(ansible_dir / "ansible.cfg"), ZUUL_JOBDIR=str(self.build_dir),
                   CERTKIT_ZUUL_JSON=str(part), PYTHONUNBUFFERED="1", ANSIBLE_FORCE_COLOR="0",
                   ANSIBLE_NOCOLOR="1", ANSIBLE_HOME=str(ansible_dir / "home"),
                   PWD=str(self.build_dir / "work"))
        try:
            proc = subprocess.Popen(command, cwd=self.build_dir / "work", env=env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, errors="replace",
                                    start_new_session=True)
        except OSError as exc:
            return "error", f"cannot start ansible-playbook: {exc.strerror or exc}"
        (self.build_dir / "ansible.pid").write_text(str(proc.pid))
        if self.on_start:
            self.on_start()
            self.on_start = None
        errors: list[str] = []

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                out.write(line)
                if line.startswith(("ERROR!", "[ERROR]")) and not errors:
                    errors.append(line.strip())

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        status = None
        while status is None:
            try:
                proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
            if deadline is not None and time.monotonic() > deadline:
                status = "timeout"
            elif self.cancel.is_set() and not ignore_cancel:
                status = "aborted"
        if status is not None:
            kill_tree(proc.pid)
            proc.wait()
        reader.join(timeout=10)
        (self.build_dir / "ansible.pid").unlink(missing_ok=True)
        self._collect(part, phase, index, playbook)
        name = playbook.path.name
        if status == "timeout":
            out.write(f"{label} END RESULT_TIMED_OUT: [untrusted : {playbook.path}]")
            return "timeout", f"{phase} playbook {name} timed out; its process tree was killed"
        if status == "aborted":
            out.write(f"{label} END RESULT_ABORTED: [untrusted : {playbook.path}]")
            return "aborted", f"{phase} playbook {name} aborted"
        rc = proc.returncode
        out.write(f"{label} END RESULT_NORMAL: [untrusted : {playbook.path}] rc={rc}")
        if rc == 0:
            return "ok", ""
        if rc == 2:
            return "failed", f"{phase} playbook {name} failed"
        if rc == 4 and not errors:
            return "unreachable", f"{phase} playbook {name}: a host was unreachable"
        return "error", f"{phase} playbook {name}: " + (errors[0] if errors else f"ansible rc {rc}")

    def _collect(self, part: Path, phase: str, index: int, playbook: Playbook) -> None:
        entry: dict[str, Any] = {"playbook": str(playbook.path), "phase": phase, "index": index,
                                 "trusted": False, "plays": [], "stats": {}}
        if part.is_file():
            try:
                entry.update(json.loads(part.read_text()))
            except (OSError, ValueError):
                pass
            part.unlink(missing_ok=True)
        entry.update(playbook=str(playbook.path), phase=phase, index=index, trusted=False)
        self._entries.append(entry)

    def _write_json(self) -> None:
        path = self.log_dir / "job-output.json"
        path.write_text(json.dumps(getattr(self, "_entries", []), indent=2, default=str))

    def _return_data(self) -> dict[str, Any]:
        path = self.build_dir / "work" / "results.json"
        try:
            return json.loads(path.read_text()).get("data", {})
        except (OSError, ValueError):
            return {}
