"""The rehearsal docs/ci/rehearse.md shows, command for command: the Gerrit double served from
the CLI, `check-config --listener` connecting once, a listener voting on an uploaded patch set,
an abandon, and `certkit ci status`."""

from __future__ import annotations

import contextlib
import io
import signal
import subprocess
import sys
import threading

import yaml

from certkit.cli import main
from tests.ci.conftest import ROOT, wait_for


class Proc:
    """A long-running certkit command whose output lines are collected."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "certkit.cli", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     cwd=ROOT)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout),
                                       daemon=True)
        self.reader.start()

    def wait_for(self, text: str, timeout: float = 120) -> str:
        return wait_for(lambda: next((line for line in self.lines if text in line), None),
                        timeout, f"{text!r} in {self.lines[-5:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.reader.join(timeout=10)


def certkit(*args: str) -> subprocess.CompletedProcess:
    """Run a short certkit command in this process (the CLI's own main), as the docs show it."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


def test_rehearse_the_whole_loop_from_the_cli(tmp_path):
    rehearsal = tmp_path / "rehearsal"
    double = Proc("ci", "gerrit-double", "serve", "--dir", str(rehearsal))
    listener = None
    try:
        double.wait_for("Gerrit double on 127.0.0.1:")
        config = rehearsal / "ci.yaml"
        check = certkit("ci", "check-config", "--listener", str(config))
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout.count("\n") == 1
        assert check.stdout.startswith(f"{config}: ok: 1 job(s) frozen, 1 project(s); "
                                       "connected to acme-ci@127.0.0.1:")
        listener = Proc("ci", "listen", "--config", str(config))
        listener.wait_for("connected to acme-ci@127.0.0.1")
        upload = certkit("ci", "gerrit-double", "upload", "--dir", str(rehearsal), "--change",
                         "1234", "--message", "Fix the share driver's {{ quota }}")
        assert upload.returncode == 0 and upload.stdout == "1234,1 uploaded\n", upload.stderr
        listener.wait_for("reported 1234,1: Verified=+1")
        abandon = certkit("ci", "gerrit-double", "abandon", "--dir", str(rehearsal), "--change",
                          "1234")
        assert abandon.stdout == "1234 abandoned\n"
        listener.wait_for("1234: openstack/manila abandoned; cancelled buildsets: none")
        status = certkit("ci", "status", "--config", str(config))
        assert status.returncode == 0, status.stderr
        assert "reported: 1" in status.stdout
        log = next((rehearsal / "state" / "logs").rglob("job-output.txt")).read_text()
        assert "Fix the share driver's {{ quota }}" in log  # printed as data
    finally:
        if listener:
            listener.stop()
        double.stop()
    assert double.lines[-1] == "Gerrit double stopped\n"
    assert not (rehearsal / "double.json").exists()


def test_check_config_listener_failure_is_one_line(tmp_path, gerrit, capsys):
    from certkit.commands.ci import check_listener_config
    from tests.ci.conftest import write_ci_config, zuul_repo

    path = write_ci_config(tmp_path, gerrit, pipeline={
        "projects": [{"name": "openstack/manila"}], "jobs": ["noop"],
        "zuul_config": [str(zuul_repo(tmp_path))]})
    config = yaml.safe_load(path.read_text())
    config["gerrit"]["port"] = 1  # nothing listens there
    path.write_text(yaml.safe_dump(config))
    assert check_listener_config(path) == 1
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.startswith(f"{path}: configuration ok, but Gerrit: acme-ci@127.0.0.1:1: "
                          "cannot connect")


def test_double_control_without_a_serving_double_is_one_line(tmp_path):
    proc = certkit("ci", "gerrit-double", "abandon", "--dir", str(tmp_path), "--change", "1")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "no Gerrit double is serving it" in proc.stderr
