"""The exploration's live tier against the manila lab (used by tests/live/test_live_tier.py,
whose module-scoped lab fixture these checks share): a clean seeded exploration of the dummy,
SIGTERM mid-exploration, and a broken live driver's divergence found, shrunk and replayed.
Every check ends by listing the lab's shares and snapshots through the API: nothing the
exploration made is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from certkit.lab.processes import session_of
from certkit.livestack.stack import service_processes
from tests.conftest import ROOT, run_certkit

PREFIX = "certkit-explore-"


def explore_args(profile: Path, report: Path, *extra: str) -> list[str]:
    return ["run", str(profile), "--suite", "explore", "--explore-tier", "api", "--no-audit",
            "--report", str(report), *extra]


def lab_client(root: Path, profile: Path) -> Any:
    """An admin client of the lab's Manila (one Keystone session: reuse it to poll)."""
    from certkit.explore.live import LiveClient
    from certkit.livestack.targets import resolve_api_target
    from certkit.profile import load_profile

    saved = os.environ.get("CERTKIT_MANILA_LAB_DIR")
    os.environ["CERTKIT_MANILA_LAB_DIR"] = str(root)
    try:
        return LiveClient(resolve_api_target(load_profile(profile, check_import=False), {}))
    finally:
        if saved is None:
            os.environ.pop("CERTKIT_MANILA_LAB_DIR")
        else:
            os.environ["CERTKIT_MANILA_LAB_DIR"] = saved


def left_behind(root: Path, profile: Path, client: Any = None) -> list[str]:
    """Shares and snapshots an exploration made that the lab's Manila still lists."""
    client = client or lab_client(root, profile)
    out = []
    for kind in ("shares", "snapshots"):
        _, raw = client.get(f"{kind}/detail?all_tenants=1")
        for obj in json.loads(raw)[kind]:
            if kind == "shares" and (obj.get("name") or "").startswith(PREFIX):
                out.append(f"share {obj['name']} ({obj['status']})")
            elif kind == "snapshots":
                out.append(f"snapshot {obj['id']} of share {obj['share_id']} ({obj['status']})")
    return out


def explore_clean(root: Path, env: dict, profile: Path, report_path: Path) -> dict:
    """A short seeded exploration of the dummy through the API: no divergence, the manager's
    features exercised, nothing left."""
    proc = run_certkit(*explore_args(profile, report_path, "--explore-seed", "7", "--explore-steps",
                                     "6", "--explore-examples", "2", "--explore-budget", "300"),
                       env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(report_path.read_text())
    explored = report["explore"]
    assert explored["counterexample"] is None and explored["examples"] >= 2, explored
    assert explored["steps"] >= 6 and "live tier" in " ".join(explored["notes"]), explored
    assert report["leaks"] == [] and report["warnings"] == [], report["warnings"]
    assert left_behind(root, profile) == []
    return report


def _interrupted(argv: list[str], env: dict, sig: int, ready, what: str) -> tuple[int, str, str]:
    """Start `certkit ARGV`, send `sig` as soon as `ready()` is true (mid-step), and wait for
    it to stop: (exit status, stdout, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "certkit.cli", *argv], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    try:
        while not ready():
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise AssertionError(f"{what} never happened: {proc.communicate()}")
            time.sleep(0.1)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=400)  # the clean-up's bound is 2 x status_poll
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out, err


def _nothing_left(root: Path, profile: Path, out: str, err: str, secret: str) -> None:
    assert "Traceback" not in err + out, err[-3000:]
    assert secret not in out + err
    assert left_behind(root, profile) == []
    masters = [pid for pid, _ in service_processes(root, "manila-share") if session_of(pid) == pid]
    assert len(masters) == 1, f"manila-share masters running: {masters}"


def explore_interrupted(root: Path, env: dict, profile: Path, report_path: Path,
                        sig: int = signal.SIGTERM) -> None:
    """`sig` as soon as the exploration's first share exists in Manila (its create request in
    flight or awaited): the run stops (143 or 130), writes its report, and every share and
    snapshot it created is deleted through the API (the report lists no leak, and none is
    left: the report's list is exact)."""
    from certkit.livestack.state import load_state

    client = lab_client(root, profile)  # polled every 0.1 s: a new Keystone session a poll took
    # seconds under load, and the signal landed steps later (the slow runs: docs/explore/live.md)
    code, out, err = _interrupted(
        explore_args(profile, report_path, "--explore-seed", "11", "--explore-budget", "300"),
        env, sig, lambda: bool(left_behind(root, profile, client)), "the exploration's first share")
    assert code == {signal.SIGTERM: 143, signal.SIGINT: 130}[sig], (out[-2000:], err[-2000:])
    report = json.loads(report_path.read_text())
    assert report["interrupted"] is True and report["leaks"] == [], report["leaks"]
    _nothing_left(root, profile, out, err, load_state(root).passwords["admin"])
    assert load_state(root).passwords["admin"] not in report_path.read_text()


def replay_interrupted_mid_restart(root: Path, env: dict, profile: Path, tmp: Path,
                                   sig: int = signal.SIGTERM) -> str:
    """`certkit replay --explore-tier api` of a share and a manila-share restart, `sig` sent
    while the restart has stopped manila-share: the clean-up starts it again (nothing could be
    deleted without it), deletes the share, and exactly one manila-share runs afterwards."""
    from certkit.explore.steps import Step, write_replay
    from certkit.livestack.procs import ProcessTable
    from certkit.livestack.state import load_state

    path = tmp / "restart.json"
    write_replay(path, [Step("create_share", {"share": "s1", "size": 1}), Step("restart", {})],
                 profile=profile.stem, driver="", seed=None, failure="")
    before = ProcessTable(root).pid_of("manila-share")
    code, out, err = _interrupted(
        ["replay", str(path), "--profile", str(profile), "--explore-tier", "api"], env, sig,
        lambda: ProcessTable(root).pid_of("manila-share") != before, "the restart")
    assert code == 130, (out[-2000:], err[-2000:])
    assert "interrupted (what the replay created was deleted)" in err, err[-2000:]
    _nothing_left(root, profile, out, err, load_state(root).passwords["admin"])
    return err


def explore_broken(root: Path, env: dict, profile: Path, tmp: Path) -> tuple[dict, str]:
    """The broken live driver (tests/live/broken_live.py): a divergence found through the real
    manager, shrunk to its minimal steps, saved, and reproduced by `certkit replay` through the
    API; nothing left behind by either."""
    report_path = tmp / "explore-broken.json"
    proc = run_certkit(*explore_args(profile, report_path, "--explore-seed", "5", "--explore-steps",
                                     "8", "--explore-budget", "300"), env=env)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(report_path.read_text())
    found = report["explore"]["counterexample"]
    assert found and found["divergence"] is True, report["explore"]
    assert found["steps"][-1]["rule"] in ("create_share", "share_from_snapshot", "grant",
                                          "change_access", "restart"), found
    assert len(found["steps"]) <= 2, found  # shrunk: one step makes each of its breaks visible
    failed = {c["name"] for c in report["checks"] if c["outcome"] == "failed"}
    assert "test_exploration_of_share" in failed or "test_exploration_of_ensure_shares" in failed
    assert "explore: counterexample" in proc.stderr and "certkit replay" in proc.stderr
    assert report["leaks"] == [] and report["warnings"] == [], report["warnings"]
    replay = run_certkit("replay", found["replay_file"], "--profile", str(profile),
                         "--explore-tier", "api", env=env)
    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert "reproduced: step" in replay.stdout, replay.stdout
    assert left_behind(root, profile) == []
    return found, replay.stdout


def replay_with_manila_share_killed(root: Path, env: dict, profile: Path, tmp: Path,
                                    how: int = signal.SIGKILL) -> str:
    """manila-share SIGKILLed (dead) or SIGSTOPped (hung), master and workers, while a replay's
    second share is asked for:
    the step's wait ends at the profile's status_poll with one line (the share never became
    available), and the clean-up starts manila-share again, force-deletes what stayed in a
    transitional status and leaves nothing; exactly one manila-share master afterwards."""
    from certkit.explore.steps import Step, write_replay
    from certkit.livestack.state import load_state

    quick = tmp / "dummy-quick.yaml"  # the lab's profile (same name), quicker to give up a wait
    quick.write_text(profile.read_text() + "\ntimeouts:\n  status_poll: 15\n")
    path = tmp / "two-shares.json"
    write_replay(path, [Step("create_share", {"share": "s1", "size": 1}),
                        Step("create_share", {"share": "s2", "size": 1})],
                 profile=profile.stem, driver="", seed=None, failure="")
    proc = subprocess.Popen([sys.executable, "-m", "certkit.cli", "replay", str(path), "--profile",
                             str(quick), "--explore-tier", "api"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    try:
        client = lab_client(root, profile)
        while not left_behind(root, profile, client):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        for pid, _ in service_processes(root, "manila-share"):
            os.kill(pid, how)
        out, err = proc.communicate(timeout=400)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, (out[-2000:], err[-2000:])
    [line] = [ln for ln in out.splitlines() if ln.startswith("reproduced: ")]
    assert "not reached within 15 s" in line, out
    assert "LEAKED" not in out, out
    _nothing_left(root, profile, out, err, load_state(root).passwords["admin"])
    return line
