"""Rehearse the whole third-party CI loop on one machine against the Gerrit double.

`certkit ci gerrit-double serve --dir DIR` starts the double and writes everything a listener
needs into DIR: the CI account's key, known_hosts, a small project repository, a `rehearse`
job and a ci.yaml. `certkit ci gerrit-double upload|comment|abandon|restore|delete --dir DIR`
plays the developer from another terminal (SSH as the double's `developer` account).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import threading
from pathlib import Path

import yaml

from certkit.ci.config import GerritConfig
from certkit.ci.gerrit import GerritError, GerritSSH
from certkit.ci.gerritdouble import CI_ACCOUNT, DEVELOPER, GerritDouble
from certkit.errors import CertkitError

STATE = "double.json"
PROJECT = "openstack/manila"
REHEARSE_PLAYBOOK = """\
# Prints what a job sees of the change under test (every value arrives as data).
- hosts: all
  gather_facts: false
  tasks:
    - debug:
        msg: "{{ zuul.project.name }} {{ zuul.change }},{{ zuul.patchset }} on {{ zuul.branch }}"
    - debug:
        msg: "{{ zuul.change_message }}"
"""


def serve(directory: Path, port: int = 0, ready: threading.Event | None = None,
          stop: threading.Event | None = None) -> None:
    """Start the double, write DIR's files, print where things are, run until SIGINT/SIGTERM."""
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        double = GerritDouble(directory / "gerrit", port=port)
    except OSError as exc:
        raise CertkitError(f"gerrit-double: cannot listen on 127.0.0.1:{port}: "
                           f"{exc.strerror or exc}") from None
    stop = stop or threading.Event()
    try:
        double.add_account(CI_ACCOUNT["username"], directory / "ci_key")
        double.add_account(DEVELOPER, directory / "developer_key")
        double.write_known_hosts(directory / "known_hosts")
        source = _project_source(directory / "source")
        double.create_project(PROJECT, source)
        config = _write_rehearsal_config(directory, double)
        (directory / STATE).write_text(json.dumps({"port": double.port, "pid": os.getpid()}))
        print(f"Gerrit double on 127.0.0.1:{double.port} (project {PROJECT}); "
              f"listener config: {config}; Ctrl-C stops it", flush=True)
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
        if ready:
            ready.set()
        while not stop.wait(0.5):
            pass
    finally:
        double.stop()
        (directory / STATE).unlink(missing_ok=True)
        print("Gerrit double stopped", flush=True)


def control(directory: Path, argv: list[str]) -> str:
    """Run a developer action (`double ...`) on the double serving DIR; its one-line answer."""
    directory = directory.resolve()
    try:
        port = json.loads((directory / STATE).read_text())["port"]
    except (OSError, ValueError, KeyError):
        raise CertkitError(f"{directory}: no Gerrit double is serving it (start `certkit ci "
                           f"gerrit-double serve --dir {shlex.quote(str(directory))}`)") from None
    client = GerritSSH(GerritConfig(host="127.0.0.1", port=port, username=DEVELOPER,
                                    key_file=directory / "developer_key",
                                    known_hosts=directory / "known_hosts", git_url=""))
    try:
        client.connect()
        return client.run(["double", *argv]).strip()
    except GerritError as exc:
        raise CertkitError(f"gerrit-double: {exc}") from None
    finally:
        client.close()


def new_commit(source: Path, message: str) -> None:
    """A new commit in the rehearsal's project (a new patch set's content)."""
    stamp = source / "CHANGES"
    with stamp.open("a") as out:
        out.write(message.splitlines()[0] + "\n")
    _git(source, "add", "CHANGES")
    _git(source, "commit", "-q", "-m", message)


def _project_source(source: Path) -> Path:
    if not (source / ".git").is_dir():
        source.mkdir(parents=True, exist_ok=True)
        _git(source, "init", "-q", "-b", "master")
        _git(source, "config", "user.email", "developer@example.org")
        _git(source, "config", "user.name", "Rehearsal Developer")
        (source / "README").write_text("A project for rehearsing certkit's CI loop.\n")
        _git(source, "add", "README")
        _git(source, "commit", "-q", "-m", "Initial commit")
    return source


def _write_rehearsal_config(directory: Path, double: GerritDouble) -> Path:
    jobs = directory / "jobs"
    jobs.mkdir(exist_ok=True)
    (jobs / "zuul.yaml").write_text("- job:\n    name: rehearse\n    parent: null\n"
                                    "    run: rehearse.yaml\n")
    (jobs / "rehearse.yaml").write_text(REHEARSE_PLAYBOOK)
    config = directory / "ci.yaml"
    config.write_text(yaml.safe_dump({
        "gerrit": {"host": "127.0.0.1", "port": double.port, "username": CI_ACCOUNT["username"],
                   "key_file": "ci_key", "known_hosts": "known_hosts", "git_url": double.git_url,
                   "canonical_hostname": "review.example.org"},
        "pipeline": {"projects": [{"name": PROJECT}], "jobs": ["rehearse"],
                     "zuul_config": ["jobs"]},
        "report": {"mode": "vote"},
        "state_dir": "state",
    }, sort_keys=False))
    return config


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
