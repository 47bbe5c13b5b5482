"""`certkit ci run|listen|check-config|install-manila`: third-party CI on one machine."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from certkit.errors import CertkitError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ci", help="third-party CI: run certkit's Zuul jobs locally, listen to Gerrit, vote",
        description="Run Zuul jobs on this machine with ansible-playbook and report to Gerrit.")
    sub = parser.add_subparsers(dest="ci_command", metavar="ACTION")

    run = sub.add_parser("run", help="run one Zuul job here, as Zuul's executor would",
                         description="Resolve JOB from the Zuul configuration and run its "
                                     "playbooks with ansible-playbook. Exit 0 on SUCCESS.")
    run.add_argument("job", help="job name, e.g. certkit-certify-dummy")
    run.add_argument("--zuul-config", action="append", type=Path, metavar="DIR",
                     help="Zuul configuration (zuul.d/, .zuul.yaml or a repository root); "
                          "repeatable, certkit's ci/zuul.d first by default")
    run.add_argument("--change", metavar="CHANGE,PATCHSET",
                     help="test this openstack/manila change: fetch its ref and install it")
    run.add_argument("--project", default="openstack/manila", help="Gerrit project of --change")
    run.add_argument("--branch", default="master", help="branch of --change (picks job variants)")
    run.add_argument("--gerrit-git-url", default=os.environ.get("CERTKIT_GERRIT_GIT_URL"),
                     help="git URL prefix to fetch changes from (env CERTKIT_GERRIT_GIT_URL), "
                          "e.g. https://review.opendev.org")
    run.add_argument("--pipeline", default="check")
    run.add_argument("--log-dir", type=Path, help="log directory (default: logs/<job>/<build>)")
    run.add_argument("--work-dir", type=Path, help="workspace root (default: a temp dir)")
    run.set_defaults(func=run_command)

    listen = sub.add_parser("listen", help="listen to Gerrit, run jobs for each patch set, vote",
                            description="The vendor's third-party CI loop (see docs/ci/operators-guide.md).")
    listen.add_argument("--config", required=True, type=Path, help="ci.yaml")
    listen.add_argument("--dry-run", action="store_true", help="report to the log, not to Gerrit")
    listen.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="INFO (default) logs every event acted on or ignored, with why")
    listen.add_argument("--debug", action="store_true",
                        help="DEBUG level, with tracebacks of connection failures (paramiko's too)")
    listen.set_defaults(func=listen_command)

    status = sub.add_parser("status", help="the listener's queue: states, running builds, "
                                           "failed votes",
                            description="Read state_dir/queue.sqlite of a listener (running or "
                                        "not). Exit 1 when a vote failed for good.")
    status.add_argument("--config", required=True, type=Path, help="ci.yaml")
    status.add_argument("--limit", type=int, default=20, help="buildsets listed (newest first)")
    status.set_defaults(func=status_command)

    check = sub.add_parser("check-config", help="check Zuul configuration the way Zuul would, "
                                                "or a listener's ci.yaml and its Gerrit",
                           description="Load every job and freeze every non-abstract one; with "
                                       "--listener, validate ci.yaml, freeze its jobs and "
                                       "connect to its Gerrit once.")
    check.add_argument("dirs", nargs="*", type=Path, help="configuration dirs (default: ci/zuul.d)")
    check.add_argument("--listener", type=Path, metavar="CI_YAML",
                       help="check this listener configuration and connect to Gerrit once")
    check.set_defaults(func=check_config_command)

    double = sub.add_parser("gerrit-double", help="a Gerrit double on this machine, to rehearse "
                                                  "the CI loop",
                            description="serve: run the double and write DIR/ci.yaml for "
                                        "`certkit ci listen`; the other actions play the "
                                        "developer against a double serving DIR.")
    actions = double.add_subparsers(dest="double_action", metavar="ACTION")
    serve = actions.add_parser("serve", help="run the double until Ctrl-C")
    serve.add_argument("--port", type=int, default=0, help="SSH port (default: a free one)")
    upload = actions.add_parser("upload", help="commit to DIR/source and upload it as a patch set")
    upload.add_argument("--change", type=int, required=True)
    upload.add_argument("--branch", default="master")
    upload.add_argument("--message", default="A change to rehearse with",
                        help="commit message (the change's subject is its first line)")
    comment = actions.add_parser("comment", help="comment on a patch set (e.g. recheck)")
    comment.add_argument("--change", type=int, required=True)
    comment.add_argument("--patchset", type=int, default=1)
    comment.add_argument("text")
    for name in ("abandon", "restore", "delete"):
        action = actions.add_parser(name, help=f"{name} a change")
        action.add_argument("--change", type=int, required=True)
    for action in (serve, upload, comment, *[actions.choices[n] for n in
                                             ("abandon", "restore", "delete")]):
        action.add_argument("--dir", type=Path, required=True,
                            help="the rehearsal's directory (keys, ci.yaml, state)")
    double.set_defaults(func=gerrit_double_command)

    install = sub.add_parser("install-manila", help="install a Manila source tree into a job venv",
                             description="Used by the certify playbook for a Manila change.")
    install.add_argument("source", type=Path)
    install.add_argument("--venv", required=True, type=Path)
    install.add_argument("--version", help="version for pbr (PBR_VERSION) when git cannot tell")
    install.set_defaults(func=install_manila_command)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def run_command(args: argparse.Namespace) -> int:
    """Exit 0 on SUCCESS, 1 on any other result, 2 on unusable input."""
    from certkit.ci.jobs import freeze_job
    from certkit.ci.runjob import JobRequest, load, run_job
    from certkit.ci.workspace import Change, check_project_name, parse_change_arg

    change = None
    if args.change:
        number, patchset = parse_change_arg(args.change)
        change = Change(project=check_project_name(args.project), number=number,
                        patchset=patchset, branch=args.branch)
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="certkit-ci-"))
    try:  # our temporary workspace goes also when the input is refused; the logs stay
        request = JobRequest(job=args.job, config_dirs=args.zuul_config or [],
                             work_root=work_dir, log_root=Path(), change=change,
                             git_url=args.gerrit_git_url, pipeline=args.pipeline)
        request.log_root = (args.log_dir or Path("logs") / args.job / request.build[:7]).resolve()
        layout = load(request)
        freeze_job(layout, args.job, branch=change.branch if change else "master")  # errors first
        if change and not request.git_url:
            raise CertkitError("--change needs a Gerrit git URL (--gerrit-git-url or "
                               "CERTKIT_GERRIT_GIT_URL)")
        print(f"certkit ci: {args.job} build {request.build[:7]}: logs in {request.log_root}",
              file=sys.stderr, flush=True)
        result = run_job(request, layout)
    finally:
        if not args.work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
    from certkit.ci.message import format_duration

    line = f"{result.job} {result.log_dir} : {result.result} in {format_duration(result.duration)}"
    print(f"- {line}" + (f" ({result.error})" if result.error else ""))
    if result.report_path:
        print(f"report: {result.report_path}")
    return 0 if result.result == "SUCCESS" else 1


def listen_command(args: argparse.Namespace) -> int:
    from certkit.ci.config import load_ci_config
    from certkit.ci.listener import Listener

    from certkit.ci.logsetup import configure

    config = load_ci_config(args.config)
    if args.dry_run:
        config.report.mode = "dry-run"
    configure(args.log_level, args.debug)
    Listener(config).serve_forever()
    return 0


def status_command(args: argparse.Namespace) -> int:
    """States of the queue, the newest buildsets, and every vote that failed for good."""
    import datetime

    from certkit.ci.config import load_ci_config
    from certkit.ci.queue import BuildQueue

    config = load_ci_config(args.config)
    path = config.state_dir / "queue.sqlite"
    if not path.is_file():
        raise CertkitError(f"{path}: no queue yet (the listener has not run with this config)")
    queue = BuildQueue(path)
    try:
        counts = queue.counts()
        last = queue.meta("last_event_time")
        failed = queue.recent(1000, states=("report_failed",))
        recent = queue.recent(args.limit)
    finally:
        queue.close()
    print(f"queue: {path}")
    print("states: " + (", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "empty"))
    if last:
        when = datetime.datetime.fromtimestamp(int(last), datetime.timezone.utc)
        print(f"last Gerrit event: {when:%Y-%m-%d %H:%M:%S} UTC")
    for b in failed:
        print(f"FAILED VOTE: {b.change},{b.patchset} report_failed after {b.report_attempts} "
              f"attempts: {b.report_error}")
    for b in recent:
        extra = f" ({b.report_attempts} attempts: {b.report_error})" if b.report_error else ""
        print(f"  {b.change},{b.patchset} {b.project} {b.trigger} {b.state}{extra}")
    return 1 if failed else 0


def gerrit_double_command(args: argparse.Namespace) -> int:
    from certkit.ci import rehearsal

    if args.double_action == "serve":
        rehearsal.serve(args.dir, args.port)
        return 0
    if args.double_action == "upload":
        rehearsal.new_commit(args.dir / "source", args.message)
        print(rehearsal.control(args.dir, ["upload", rehearsal.PROJECT, str(args.change),
                                           str((args.dir / "source").resolve()), args.branch]))
    elif args.double_action == "comment":
        print(rehearsal.control(args.dir, ["comment", str(args.change), str(args.patchset),
                                           args.text]))
    elif args.double_action in ("abandon", "restore", "delete"):
        print(rehearsal.control(args.dir, [args.double_action, str(args.change)]))
    else:
        raise CertkitError("gerrit-double: an ACTION is needed: serve, upload, comment, "
                           "abandon, restore or delete")
    return 0


def check_listener_config(path: Path) -> int:
    """ci.yaml valid, its jobs frozen, Gerrit reachable with its key: one line, exit 0 or 1."""
    from certkit.ci.config import load_ci_config
    from certkit.ci.gerrit import GerritError, GerritSSH
    from certkit.ci.jobs import freeze_job
    from certkit.ci.runjob import default_config_dirs
    from certkit.ci.zuulconfig import load_layout

    config = load_ci_config(path)
    layout = load_layout(config.pipeline.zuul_config or default_config_dirs())
    for job in config.pipeline.jobs:
        freeze_job(layout, job)
    client = GerritSSH(config.gerrit)
    try:
        client.connect()
        version = client.run(["gerrit", "version"], timeout=config.gerrit.connect_timeout).strip()
    except GerritError as exc:
        print(f"{path}: configuration ok, but Gerrit: {exc}")
        return 1
    finally:
        client.close()
    print(f"{path}: ok: {len(config.pipeline.jobs)} job(s) frozen, "
          f"{len(config.pipeline.projects)} project(s); connected to {client.where} ({version})")
    return 0


def check_config_command(args: argparse.Namespace) -> int:
    from certkit.ci.jobs import freeze_job, list_jobs
    from certkit.ci.runjob import default_config_dirs
    from certkit.ci.zuulconfig import load_layout

    if args.listener:
        return check_listener_config(args.listener)
    layout = load_layout(args.dirs or default_config_dirs())
    for name, abstract, _ in list_jobs(layout):
        if abstract:
            print(f"{name}: abstract")
            continue
        job = freeze_job(layout, name)
        missing = [p.path for p in [*job.pre_run, *job.run, *job.post_run, *job.cleanup_run]
                   if not p.path.is_file()]
        if missing:
            raise CertkitError(f"job {name}: playbook {missing[0]} does not exist")
        print(f"{name}: ok (parents: {' -> '.join(job.parents) or 'none'})")
    return 0


def install_manila_command(args: argparse.Namespace) -> int:
    from certkit.ci.manila_install import install_manila

    version = install_manila(args.source, args.venv, args.version)
    print(f"manila {version} installed into {args.venv}")
    return 0
