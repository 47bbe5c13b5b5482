"""The Zuul lab's figures (issue 23): cold `certkit lab up zuul` with Zuul's venv cached, the
memory of each Zuul service, event -> job start -> vote latency of real Zuul against `certkit ci
listen` on the same kind of change, and 10 changes queued at once (one vote each).

Run as root on Debian: `.venv/bin/python benchmarks/zuul_lab.py` (about 40 minutes; the venv and
the node's mirror are built first if absent, which is not counted in the cold-up figure).

`--up` measures only the cold `up` and the services' memory (keys cold_up_s, cold_up_load_1m,
cold_up_lines, memory_mib). `--ten` only the 10 changes queued at once on a new lab (key
ten_changes), about 20 minutes.

`--lane` measures instead the `zuul` lane of `make test` (tests/zuul, as ci/run_tests.py runs it)
as on a fresh CI machine: Zuul's venv, the node's mirror and uv's and pip's caches in a new
temporary directory, so all are built cold. Its wall and CPU seconds, the lane's own (pytest and
every child it waited for) and the lab daemons' with everything under them (which are not the
lane's children; tests/zuul/conftest.py reads them from /proc at teardown, and before it kills
one). `--lane-cached` measures the same lane with a new lab but Zuul's venv, the node's mirror
and its image cache as this machine has them, i.e. every CI run after the first; `--e2e` the
same for tests/zuul alone (key e2e_cached).

Every mode writes its part of benchmarks/results/zuul_lab.json (keeping the others) and prints it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from contextlib import contextmanager
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from certkit.zuullab import mirror, venv  # noqa: E402
from tests.ci.conftest import build_manila_source, commit_change  # noqa: E402
from certkit.ci.gerritdouble import CI_ACCOUNT  # noqa: E402
from tests.zuul.conftest import Gerrit, queue_changes  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "zuul_lab.json"
SERVICES = ("zookeeper", "scheduler", "executor", "web", "launcher")


def certkit(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "certkit.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **env})


def rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants, MiB."""
    total = 0
    todo = [pid]
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        children.setdefault(int(raw[raw.rindex(")") + 2:].split()[1]), []).append(int(stat.parent.name))
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
        todo.extend(children.get(current, []))
    return round(total / 1024, 1)


def load() -> float:
    """The 1-minute load average now (recorded next to every figure)."""
    return round(os.getloadavg()[0], 2)


def wait_votes(gerrit: Gerrit, change: int, count: int, timeout: float = 1800,
               sample: Callable[[], None] | None = None) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(gerrit.votes(change)) >= count:
            return time.time()
        if sample:
            sample()
        time.sleep(0.5)
    raise SystemExit(f"change {change}: no vote within {timeout} s")


def zuul_builds(web: str, change: int) -> list[dict]:
    """Zuul's build records of a change (its API, newest first)."""
    import urllib.request

    with urllib.request.urlopen(f"{web}/api/tenant/certkit/builds?change={change}", timeout=10) as r:
        return json.loads(r.read())


def epoch(stamp: str) -> float:
    import datetime

    return datetime.datetime.fromisoformat(stamp).replace(tzinfo=datetime.timezone.utc).timestamp()


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="certkit-zuul-bench-"))
    gerrit = Gerrit(tmp / "gerrit")
    source = build_manila_source(tmp / "manila-src")
    gerrit.double.create_project("openstack/manila", source)
    env = {"CERTKIT_LAB_DIR": str(tmp / "lab")}
    results: dict = {"zuul_version": venv.ZUUL_VERSION, "cpus": os.cpu_count(),
                     "load_1m_at_start": round(os.getloadavg()[0], 2)}
    # certkit's own listener first, alone on the double (Zuul, once up, would build its change too).
    results["listener_latency_s"] = listener_latency(tmp, gerrit, source)
    try:
        if not venv.is_built(venv.venv_dir()):
            t = time.monotonic()
            venv.ensure(tmp / "venv-build.log")
            results["venv_build_s"] = {"seconds": round(time.monotonic() - t, 1), "load_1m": load()}
        t = time.monotonic()
        mirror.ensure(tmp / "mirror-build.log")  # cached like the venv: not in the cold-up figure
        results["node_mirror_ready_s"] = {"seconds": round(time.monotonic() - t, 1), "load_1m": load()}
        pids = cold_up(tmp, gerrit, env, results)
        save(results)  # each figure is kept as soon as it is measured
        peak = dict(results["memory_mib"])

        def sample() -> None:
            for name, pid in pids.items():
                peak[name] = max(peak[name], rss_mib(pid))
        web = "http://127.0.0.1:%d" % json.loads((tmp / "lab" / "state.json").read_text())["ports"]["web"]

        # Latency, Zuul: a warm-up change first (the node's first build makes certkit's venv).
        for number, label in ((6000, "warmup"), (6001, "zuul")):
            commit_change(source, f"Latency probe {label}", label)
            sent = time.time()
            gerrit.double.upload_patchset("openstack/manila", number, source, files=["manila/certkit_change_marker.py"])
            voted = wait_votes(gerrit, number, 1, sample=sample)
            if label == "warmup":
                results["first_build_s"] = {"seconds": round(voted - sent, 1), "load_1m": load()}
        build = zuul_builds(web, 6001)[0]
        results["zuul_latency_s"] = {"event_to_job_start": round(epoch(build["start_time"]) - sent, 1),
                                     "job_start_to_vote": round(voted - epoch(build["start_time"]), 1),
                                     "event_to_vote": round(voted - sent, 1), "load_1m": load()}
        save(results)

        results["ten_changes"] = ten_changes(gerrit, source, web, sample)
        results["memory_peak_mib"] = peak
        save(results)
    finally:
        down = certkit("lab", "down", "zuul", env=env)
        print(down.stderr.strip().splitlines()[-1:] if down.stderr else "", file=sys.stderr)

    results["load_1m_at_end"] = round(os.getloadavg()[0], 2)
    gerrit.double.stop()
    save(results)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def save(part: dict) -> None:
    """Write `part` into the results file, keeping the figures of the other modes."""
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results = {**old, **part}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(part, indent=2), flush=True)


def cold_up(tmp: Path, gerrit: Gerrit, env: dict[str, str], results: dict) -> dict[str, int]:
    """`certkit lab up zuul`, the lab new, Zuul's venv and the node's mirror cached: its wall
    time and phases, then each service's memory; the services' pids."""
    t = time.monotonic()
    up = certkit("lab", "up", "zuul", "--gerrit", gerrit.url, "--gerrit-key", str(gerrit.key), env=env)
    if up.returncode != 0:
        raise SystemExit(up.stderr[-3000:])
    results["cold_up_s"] = round(time.monotonic() - t, 1)
    results["cold_up_load_1m"] = load()
    results["cold_up_lines"] = [line for line in up.stderr.splitlines()
                                if "figures:" in line or "node image:" in line or "restart" in line]
    gerrit.double.wait_for_subscriber(timeout=60)
    run_dir = tmp / "lab" / "run"
    pids = {name: json.loads((run_dir / f"{name}.pid.json").read_text())["pid"] for name in SERVICES}
    results["memory_mib"] = {name: rss_mib(pid) for name, pid in pids.items()}
    results["memory_load_1m"] = load()
    return pids


def ten_changes(gerrit: Gerrit, source: Path, web: str, sample: Callable[[], None] | None = None,
                first: int = 6100) -> dict:
    """10 patch sets uploaded at once: when all have voted, how many votes and builds each got."""
    numbers = range(first, first + 10)
    t = time.time()
    queue_changes(gerrit, source, numbers)
    uploaded = time.time() - t
    voted = {number: round(wait_votes(gerrit, number, 1, timeout=3600, sample=sample) - t, 1)
             for number in numbers}
    all_voted = time.time() - t
    time.sleep(10)  # a stray second vote would have come by now
    counts = [len(gerrit.votes(n)) for n in numbers]
    builds = [zuul_builds(web, n) for n in numbers]
    return {"all_voted_s": round(all_voted, 1), "uploads_s": round(uploaded, 1),
            "voted_at_s": list(voted.values()), "votes_per_change": counts,
            "one_vote_each": counts == [1] * 10,
            "builds_per_change": [len(b) for b in builds],
            "build_results": sorted({r["result"] for b in builds for r in b}),
            "labels": sorted({v[v.index("--label") + 1] for n in numbers for v in gerrit.votes(n)}),
            "load_1m": load()}


@contextmanager
def fresh_lab() -> Iterator[tuple[Path, Gerrit, Path, dict[str, str]]]:
    """A temporary directory with the Gerrit double serving a Manila source, and the lab's env;
    afterwards the lab down (if it came up), the double stopped, the directory removed."""
    tmp = Path(tempfile.mkdtemp(prefix="certkit-zuul-bench-"))
    gerrit = Gerrit(tmp / "gerrit")
    source = build_manila_source(tmp / "manila-src")
    gerrit.double.create_project("openstack/manila", source)
    if not venv.is_built(venv.venv_dir()):
        raise SystemExit("this mode measures with Zuul's venv cached: run `certkit lab up zuul` once first")
    mirror.ensure(tmp / "mirror-build.log")
    env = {"CERTKIT_LAB_DIR": str(tmp / "lab")}
    try:
        yield tmp, gerrit, source, env
    finally:
        down = certkit("lab", "down", "zuul", env=env)
        print(down.stderr.strip().splitlines()[-1:] if down.stderr else "", file=sys.stderr)
        gerrit.double.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def up_only() -> int:
    """Only the cold `up` and the services' memory (`--up`)."""
    results: dict = {"zuul_version": venv.ZUUL_VERSION, "cpus": os.cpu_count()}
    with fresh_lab() as (tmp, gerrit, _, env):
        cold_up(tmp, gerrit, env, results)
        save(results)
    return 0


def ten() -> int:
    """Only 10 changes queued at once on a new lab (`--ten`; its `up` is not the cold-up figure:
    this mode may run beside other work of the lab's, on a second node network)."""
    with fresh_lab() as (tmp, gerrit, source, env):
        load_start = load()
        t = time.monotonic()
        up = certkit("lab", "up", "zuul", "--gerrit", gerrit.url, "--gerrit-key", str(gerrit.key), env=env)
        if up.returncode != 0:
            raise SystemExit(up.stderr[-3000:])
        gerrit.double.wait_for_subscriber(timeout=60)
        up_s = round(time.monotonic() - t, 1)
        web = "http://127.0.0.1:%d" % json.loads((tmp / "lab" / "state.json").read_text())["ports"]["web"]
        figures = {**ten_changes(gerrit, source, web), "lab_up_s": up_s, "load_1m_at_start": load_start}
        save({"ten_changes": figures})
    return 0 if figures["one_vote_each"] else 1


def lane(cached: bool = False, only_zuul: bool = False) -> int:
    """The `zuul` lane of make test, cold (see the module's docstring); with `cached`, a new lab
    but Zuul's venv, the node's mirror and its image cache as this machine has them
    (`--lane-cached`: what every CI run after the first pays); with `only_zuul`, tests/zuul
    alone (`--e2e`: the end to end's own cost, the lane's other tests left out)."""
    sys.path.insert(0, str(ROOT / "ci"))
    from run_tests import lane_arguments

    tmp = Path(tempfile.mkdtemp(prefix="certkit-zuul-lane-"))
    figures = tmp / "figures.json"
    env = {**os.environ, "CERTKIT_ZUUL_FIGURES": str(figures), "CERTKIT_REQUIRE_LAB": "1"}
    if not cached:
        env.update({"CERTKIT_ZUUL_VENV": str(tmp / "zuul-venv"), "CERTKIT_ZUUL_WHEELHOUSE": str(tmp / "wheelhouse"),
                    "UV_CACHE_DIR": str(tmp / "uv-cache"), "PIP_CACHE_DIR": str(tmp / "pip-cache")})
    paths = ["tests/zuul"] if only_zuul else lane_arguments()["zuul"]
    argv = [sys.executable, "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider",
            "--durations=0", "--basetemp", str(tmp / "basetemp")]
    load_start = load()
    t0 = time.monotonic()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C reaches the lane even from `nohup ... &`
    with (tmp / "lane.log").open("w") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    log = (tmp / "lane.log").read_text(errors="replace")
    shutil.copyfile(tmp / "lane.log", Path(tempfile.gettempdir()) / "certkit-zuul-lane-last.log")
    print(log[-6000:])
    lab = json.loads(figures.read_text()) if figures.exists() else {}
    daemons = lab.get("daemon_cpu_s", {})
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    key = "e2e_cached" if only_zuul else "make_test_lane_cached" if cached else "make_test_lane"
    results[key] = {
        "what": ("the zuul lane of make test, a new lab, Zuul's venv, the node's mirror and image cache "
                 "as cached on this machine" if cached else
                 "the zuul lane of make test, Zuul venv, node mirror, uv and pip caches cold"),
        "paths": paths,
        "exit": os.waitstatus_to_exitcode(status), "summary": log.strip().splitlines()[-1],
        "wall_s": round(wall), "lane_cpu_s": round(usage.ru_utime + usage.ru_stime),
        "lab_daemons_cpu_s": round(sum(daemons.values())), "lab_daemons_cpu_by_service_s": daemons,
        "total_cpu_s": round(usage.ru_utime + usage.ru_stime + sum(daemons.values())),
        "lab_up_s": lab.get("lab_up_s"), "lab_up_lines": lab.get("lab_up_lines"), "lab_down_s": lab.get("lab_down_s"),
        "lab_down_lines": lab.get("lab_down_lines"),
        "slowest": [line.strip() for line in log.splitlines() if line.strip()[:1].isdigit()
                    and (" call " in line or " setup " in line or " teardown " in line)][:12],
        "load_1m_at_start": load_start, "load_1m_at_end": load(), "cpus": os.cpu_count()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results[key], indent=2))
    shutil.rmtree(tmp, ignore_errors=True)
    return results[key]["exit"]


def listener_latency(tmp: Path, gerrit: Gerrit, source: Path) -> dict:
    """`certkit ci listen` on the same kind of change, same job, same Gerrit."""
    import re

    import yaml

    key = tmp / "ci_key"
    key.write_bytes(gerrit.key.read_bytes())
    key.chmod(0o600)
    gerrit.double.write_known_hosts(tmp / "known_hosts")
    config = tmp / "ci.yaml"
    config.write_text(yaml.safe_dump({
        "gerrit": {"host": "127.0.0.1", "port": gerrit.port, "username": CI_ACCOUNT["username"],
                   "key_file": str(key), "known_hosts": str(tmp / "known_hosts"),
                   "git_url": gerrit.double.git_url, "canonical_hostname": "review.example.org"},
        "pipeline": {"name": "check", "jobs": ["certkit-certify-dummy"],
                     "projects": [{"name": "openstack/manila"}]},
        "report": {"mode": "vote", "log_url": "https://logs.acme.example/{change}/{build_short}/"},
        "state_dir": str(tmp / "listener-state")}))
    log = tmp / "listener.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "certkit.cli", "ci", "listen", "--config", str(config)],
                                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while len(gerrit.double.subscribers) < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        commit_change(source, "Latency probe listener", "listener")
        sent = time.time()
        gerrit.double.upload_patchset("openstack/manila", 6201, source, files=["manila/certkit_change_marker.py"])
        started = None
        deadline = time.monotonic() + 1800
        while not gerrit.votes(6201) and time.monotonic() < deadline:
            if started is None and re.search(r"build started: certkit-certify-dummy", log.read_text()):
                started = time.time()
            time.sleep(0.2)
        voted = time.time()
        started = started or voted
        return {"event_to_job_start": round(started - sent, 1), "job_start_to_vote": round(voted - started, 1),
                "event_to_vote": round(voted - sent, 1), "load_1m": load()}
    finally:
        proc.terminate()
        proc.wait(timeout=60)


if __name__ == "__main__":
    MODES = {"--lane": lane, "--lane-cached": lambda: lane(cached=True),
             "--e2e": lambda: lane(cached=True, only_zuul=True), "--ten": ten, "--up": up_only}
    if sys.argv[1:] and sys.argv[1] not in MODES:
        raise SystemExit(f"usage: {sys.argv[0]} [{' | '.join(MODES)}]")
    raise SystemExit(MODES[sys.argv[1]]() if sys.argv[1:] else main())
