"""Exploration on the CephFS lab, observed from its client host: a broken driver found with no
hand-written case naming it, shrunk and replayed from its file; and Ctrl-C mid-step leaves no
subvolume (`ceph fs subvolume ls`) and no cephx identity (`ceph auth ls`) behind.

The find test is fixed work, not a time budget: Hypothesis draws from the seed, so the same
seed, step count and number of sequences give the same sequences on any machine at any load;
the time budget is only a backstop. It runs in the `client-host` lane of `make test`. (The
older find test, whose driver needs a `deny` a few hundred steps in, stays beyond the budget.)

Needs root and Debian's Ceph packages: skips where tests/test_lab.py skips, and fails instead
when CERTKIT_REQUIRE_LAB=1 (the imported `lab` fixture, which also takes the lab lock).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path


from tests.conftest import FIGURES, ROOT, beyond_budget, client_workdir_left, run_certkit, timed
from tests.test_lab import PROFILE, lab  # noqa: F401 - the lab fixture: up (or skip/fail), then down



def _ceph(env: dict[str, str], *args: str) -> str:
    conf = Path(env["CERTKIT_CEPH_CONF"])
    return subprocess.run(["ceph", "-c", str(conf), "-k", str(conf.parent / "client.admin.keyring"),
                           *args, "--format", "json"],
                          capture_output=True, text=True, timeout=60, check=True).stdout


def _subvolumes(env: dict[str, str]) -> list[str]:
    return [e["name"] for e in json.loads(_ceph(env, "fs", "subvolume", "ls", "cephfs") or "[]")]


def _identities(env: dict[str, str], run_id: str) -> list[str]:
    entities = json.loads(_ceph(env, "auth", "ls") or "{}").get("auth_dump", [])
    return [e["entity"] for e in entities if f"certkit-{run_id}" in e["entity"]]


def _cpu_seconds() -> float:
    """CPU seconds of this process and of the children it waited for (`certkit run`, `replay`)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _profile(tmp_path: Path, driver: str | None = None) -> Path:
    path = tmp_path / "cephfs.yaml"
    text = PROFILE.read_text()
    if driver:
        text = text.replace("driver: manila.share.drivers.cephfs.driver.CephFSDriver", f"driver: {driver}")
    path.write_text(text)
    return path


#: The seeded find: 2 steps per sequence and 10 sequences drawn from seed 2 (then Hypothesis'
#: shrinking). Chosen, not tuned: a model-only dry run (benchmarks/explore_fairness.py's
#: ModelOnly) shows these draws reach a pool identity's rw grant in the 10th sequence (seed 1 at
#: 5 sequences did under the rule order before FairRules.ORDER); the draws depend on the seed and
#: the outcomes only, never on time.
FIND = ("--explore-seed", "2", "--explore-steps", "2", "--explore-examples", "10",
        "--explore-budget", "900")  # the budget is a backstop at any load, never what ends it


def test_a_seeded_exploration_finds_shrinks_and_replays_a_driver_that_grants_read_only(lab, tmp_path):  # noqa: F811
    """GrantsEverythingReadOnly applies every rw rule as ro: its update_access answers as the real
    driver's do, so only a client that tries to write sees it."""
    profile = _profile(tmp_path, "tests.broken_cephfs.GrantsEverythingReadOnly")
    report_path = tmp_path / "report.json"
    cpu = _cpu_seconds()
    with timed("explore: CephFS find test (run, two replays): wall / CPU", digits=0) as watch:
        proc = run_certkit("run", str(profile), "--no-audit", "--suite", "explore", *FIND,
                           "--report", str(report_path))
        assert report_path.exists(), proc.stdout[-2000:] + proc.stderr[-2000:]
        report = json.loads(report_path.read_text())
        section = report["explore"]
        FIGURES["explore: CephFS GrantsEverythingReadOnly found and shrunk"] = (
            f"{section['examples']} sequences, {section['steps']} steps in {section['elapsed_seconds']:.0f} s")
        assert section["data_path"] is True and section["seed"] == 2, section
        found = section["counterexample"]
        assert found and found["divergence"], (section, proc.stderr[-2000:])
        assert "a write was refused" in found["failure"] and "not fully shrunk" not in found["failure"] \
            and "flaky" not in found["failure"], found["failure"]
        # Shrunk to the two steps that show it: a share, and one pool identity's rw rule on it.
        assert [s["rule"] for s in found["steps"]] == ["create_share", "grant"], found["steps"]
        assert [level for _, level in found["steps"][1]["args"]["rules"]] == ["rw"], found["steps"]
        assert report["verdict"] == "failed" and not report["leaks"], report["leaks"]
        assert not client_workdir_left(lab, report["run_id"])
        assert _identities(lab.env(), report["run_id"]) == [], "cephx identities left on the cluster"
        replay_file = Path(found["replay_file"])
        assert replay_file.parent == tmp_path and json.loads(replay_file.read_text())["steps"] == found["steps"]
        again = run_certkit("replay", str(replay_file), "--profile", str(profile))
        assert again.returncode == 1 and "reproduced: step 2" in again.stdout \
            and "a write was refused" in again.stdout, again.stdout + again.stderr
        fixed = run_certkit("replay", str(replay_file), "--profile", str(PROFILE))
        assert fixed.returncode == 0 and "passed: all 2 step(s) matched the model" in fixed.stdout, \
            fixed.stdout + fixed.stderr
        watch.note = (f" / {_cpu_seconds() - cpu:.0f} s (certkit's processes; "
                      "the lab's daemons not counted)")


def _client_mounts(lab) -> set[str]:  # noqa: F811 - the lab fixture's object
    """Every certkit mount on the lab's client host, and every ceph-fuse still serving one
    (a FUSE mount stays in the kernel's table when its daemon is gone)."""
    from certkit.clienthost import ClientHost

    env = lab.env()
    with ClientHost("lab", env["CERTKIT_CLIENT_HOST"], "root", env["CERTKIT_CLIENT_KEY"],
                    env["CERTKIT_CLIENT_KNOWN_HOSTS"]) as host:
        mounts = host.run("awk '$2 ~ /^\\/tmp\\/certkit-/ { print \"mount \" $2 }' /proc/self/mounts").stdout
        daemons = host.run("for p in $(pgrep -x ceph-fuse); do m=$(tr '\\0' '\\n' < /proc/$p/cmdline "
                           "| tail -n 1); case $m in /tmp/certkit-*) echo \"ceph-fuse $p $m\";; esac; "
                           "done").stdout  # (an exiting one has no command line left)
    return set((mounts + daemons).split("\n")) - {""}


#: Found by `benchmarks/explore_power.py` (DenyRevokesEveryone, shrunk): denying one identity
#: evicts every client of the share, so id2's kept ceph-fuse mount is left with no session.
EVICTING_DENY = [("create_share", {"share": "s1", "size": 1}),
                 ("grant", {"share": "s1", "rules": [["id1", "rw"], ["id2", "rw"]], "mode": "delta"}),
                 ("deny", {"share": "s1", "identities": ["id1"], "mode": "delta"})]


def test_a_deny_that_evicts_every_client_is_reproduced_and_leaves_no_mount(lab, tmp_path):  # noqa: F811
    """A driver whose deny evicts every client leaves the other identities' kept mounts dead
    ("Transport endpoint is not connected"). The replay must end as the divergence, and the
    clean-up must still unmount them and stop their ceph-fuse: `mountpoint` fails on a dead FUSE
    mount, and it had been left mounted with its daemon running, and the run then ended in
    "cannot remove the work directory" (exit 2) instead of its finding."""
    from certkit.explore.steps import Step, write_replay

    replay_file = tmp_path / "evicting-deny.json"
    write_replay(replay_file, [Step(rule, args) for rule, args in EVICTING_DENY], profile="cephfs-native",
                 driver="tests.broken_cephfs.DenyRevokesEveryone", seed=None, failure="")
    before = _client_mounts(lab)
    proc = run_certkit("replay", str(replay_file), "--profile",
                       str(_profile(tmp_path, "tests.broken_cephfs.DenyRevokesEveryone")))
    assert proc.returncode == 1 and "reproduced: step 3" in proc.stdout \
        and "id2 (rw, kept mount) on share s1: cannot list the share" in proc.stdout, proc.stdout + proc.stderr
    assert _client_mounts(lab) - before == set(), "a mount or a ceph-fuse of the replay was left"
    fixed = run_certkit("replay", str(replay_file), "--profile", str(PROFILE))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


@beyond_budget
def test_identities_a_broken_deny_leaves_are_reported_as_leaks(lab, tmp_path):  # noqa: F811
    """DenyDoesNotDeauthorize never deauthorizes, so the clean-up's denies leave every granted
    cephx identity on the cluster: each one `ceph auth ls` still lists is in the report's
    leaks (and nothing else is), and the run is not certified. The identities carry their
    example's number: none is granted again by a later example."""
    profile = _profile(tmp_path, "tests.broken_cephfs.DenyDoesNotDeauthorize")
    report_path = tmp_path / "report.json"
    proc = run_certkit("run", str(profile), "--no-audit", "--suite", "explore", *FIND,
                       "--report", str(report_path))
    assert report_path.exists(), proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(report_path.read_text())
    env = lab.env()
    left = _identities(env, report["run_id"])
    try:
        assert left, "the broken deny left no identity: this no longer tests the leak"
        reported = sorted(leak["name"] for leak in report["leaks"] if leak["kind"] == "cephx identity")
        assert reported == sorted(left), (reported, left)
        assert report["verdict"] != "certified" and not client_workdir_left(lab, report["run_id"])
        run = report["run_id"]
        assert all(re.fullmatch(rf"client\.certkit-{run}-e\d+-(\d+|c\d+)", name) for name in left), left
    finally:  # what the broken driver left, removed with the lab's admin key (one ceph process)
        conf = Path(env["CERTKIT_CEPH_CONF"])
        subprocess.run(["ceph", "-c", str(conf), "-k", str(conf.parent / "client.admin.keyring")],
                       input="".join(f"auth rm {entity}\n" for entity in left), capture_output=True,
                       text=True, timeout=60 + len(left), check=True)
        assert _identities(env, report["run_id"]) == []


@beyond_budget
def test_exploration_finds_a_cephfs_driver_that_never_deauthorizes(lab, tmp_path):  # noqa: F811
    profile = _profile(tmp_path, "tests.broken_cephfs.DenyDoesNotDeauthorize")
    report_path = tmp_path / "report.json"
    with timed("explore: CephFS DenyDoesNotDeauthorize found and shrunk", digits=0):
        proc = run_certkit("run", str(profile), "--no-audit", "--suite", "explore", "--explore-seed", "1",
                           "--explore-budget", "120", "--explore-steps", "8", "--report", str(report_path))
    assert report_path.exists(), proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(report_path.read_text())
    section = report["explore"]
    print({k: section[k] for k in ("elapsed_seconds", "examples", "steps", "steps_per_second", "rules")},
          file=sys.stderr)
    assert section["data_path"] is True, section
    found = section["counterexample"]
    assert found and found["divergence"], (section, proc.stderr[-2000:])
    assert [s["rule"] for s in found["steps"]][-1] in ("deny", "change_access"), found["steps"]
    assert len(found["steps"]) <= 4, found["steps"]
    assert "could mount it" in found["failure"], found["failure"]
    # What it leaves is reported: only the cephx identities its denies never removed.
    assert report["verdict"] == "failed" and all(
        leak["kind"] == "cephx identity" for leak in report["leaks"]), report["leaks"]
    assert not client_workdir_left(lab, report["run_id"])
    again = run_certkit("replay", found["replay_file"], "--profile", str(profile))
    assert again.returncode == 1 and "reproduced: step" in again.stdout, again.stdout + again.stderr
    fixed = run_certkit("replay", found["replay_file"], "--profile", str(PROFILE))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


def test_ctrl_c_mid_exploration_leaves_no_subvolume_and_no_identity(lab, tmp_path):  # noqa: F811
    env = lab.env()
    before = _subvolumes(env)
    report_path = tmp_path / "report.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "certkit.cli", "run", str(PROFILE), "--suite", "explore",
         "--explore-seed", "3", "--explore-budget", "600", "--report", str(report_path)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    try:
        while True:  # mid-step: once the exploration holds a subvolume and a cephx identity
            made = set(_subvolumes(env)) - set(before)
            holders = [e for e in json.loads(_ceph(env, "auth", "ls")).get("auth_dump", [])
                       if e["entity"].startswith("client.certkit-")]
            if made and holders:
                break
            assert time.monotonic() < deadline and proc.poll() is None, "the exploration made nothing"
            time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (out[-2000:], err[-2000:])
    report = json.loads(report_path.read_text())
    assert report["interrupted"] is True and not report["leaks"], report["leaks"]
    assert sorted(_subvolumes(env)) == sorted(before), "subvolumes left on the cluster"
    assert _identities(env, report["run_id"]) == [], "cephx identities left on the cluster"
    assert not client_workdir_left(lab, report["run_id"]), "keyrings left on the client host"
