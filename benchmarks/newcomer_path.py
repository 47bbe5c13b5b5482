"""Benchmark: a newcomer's path from the README to a published report on a local dashboard.

The README's steps, timed one by one, with the project venv already made (`make venv`; a first
install is mostly downloads and is not what this measures):

1. `make certify`: certify the embedded dummy profile, report written;
2. `certkit dashboard token create`: a token for the newcomer's CI account;
3. `certkit dashboard serve` on loopback (a free port), until /matrix answers;
4. `certkit publish REPORT --to http://127.0.0.1:PORT` with the token;
5. the run visible: its page on the dashboard answers and names the report's run id.

Everything happens in a temporary directory (reports, database, spool); the server is stopped
at the end. Prints seconds per step and writes benchmarks/results/newcomer_path.json.

    .venv/bin/python benchmarks/newcomer_path.py
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from results import record

ROOT = Path(__file__).resolve().parent.parent
CERTKIT = str(ROOT / ".venv" / "bin" / "certkit")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def step(name: str, seconds: dict, args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run one command of the path, time it, stop the benchmark with its output if it fails."""
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, **kwargs)
    seconds[name] = round(time.perf_counter() - start, 2)
    if done.returncode != 0:
        sys.exit(f"benchmark: {name} failed (exit {done.returncode}):\n{done.stdout[-1500:]}\n"
                 f"{done.stderr[-1500:]}")
    print(f"{name:<28} {seconds[name]:7.2f} s", flush=True)
    return done


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"benchmark: dashboard exited {server.returncode}: {server.stderr.read()[-1500:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    sys.exit(f"benchmark: the dashboard did not answer {url} within {timeout:.0f} s")


def main() -> int:
    if not Path(CERTKIT).exists():
        sys.exit("benchmark: no .venv/bin/certkit: run `make venv` first")
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="certkit-newcomer-") as tmp:
        tmp_path = Path(tmp)
        env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
        env.pop("CERTKIT_DASHBOARD_TOKEN", None)
        db = str(tmp_path / "dashboard.sqlite")
        total = time.perf_counter()
        step("make certify", seconds, ["make", "certify", f"REPORTS={tmp_path / 'reports'}"], env=env)
        report_path = tmp_path / "reports" / "manila-dummy.json"
        report = json.loads(report_path.read_text())
        token = step("token create", seconds, [CERTKIT, "dashboard", "token", "create", "--db", db,
                                                "--account", "newcomer-ci", "--profiles", "manila-*"],
                     env=env).stdout.strip().splitlines()[-1]
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        start = time.perf_counter()
        server = subprocess.Popen([CERTKIT, "dashboard", "serve", "--db", db, "--host", "127.0.0.1",
                                   "--port", str(port)], cwd=ROOT, env=env, text=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  start_new_session=True)
        try:
            wait_until_up(f"{base}/matrix", server)
            seconds["dashboard serve (up)"] = round(time.perf_counter() - start, 2)
            print(f"{'dashboard serve (up)':<28} {seconds['dashboard serve (up)']:7.2f} s", flush=True)
            step("certkit publish", seconds, [CERTKIT, "publish", str(report_path), "--to", base],
                 env={**env, "CERTKIT_DASHBOARD_TOKEN": token})
            start = time.perf_counter()
            profile, run_id = report["profile"]["name"], report["run_id"]
            page = requests.get(f"{base}/runs/{profile}/{run_id}", timeout=30)
            backend = requests.get(f"{base}/backends/{profile}", timeout=30)
            if page.status_code != 200 or run_id not in backend.text:
                sys.exit(f"benchmark: the published run is not visible: /runs/{profile}/{run_id} "
                         f"answered {page.status_code}; /backends/{profile} "
                         f"{'names' if run_id in backend.text else 'does not name'} the run")
            seconds["report visible"] = round(time.perf_counter() - start, 2)
            print(f"{'report visible':<28} {seconds['report visible']:7.2f} s", flush=True)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        seconds["total"] = round(time.perf_counter() - total, 2)
    print(f"{'total':<28} {seconds['total']:7.2f} s  (verdict {report['verdict']}, "
          f"{report['summary']['total']} checks)")
    record("newcomer_path", {
        "make_certify_s": seconds["make certify"], "token_create_s": seconds["token create"],
        "dashboard_up_s": seconds["dashboard serve (up)"], "publish_s": seconds["certkit publish"],
        "report_visible_s": seconds["report visible"], "total_s": seconds["total"],
        "verdict": report["verdict"], "checks": report["summary"]["total"],
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
