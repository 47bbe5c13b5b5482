"""The live tier end to end on this machine: `certkit lab up manila` for the dummy profile
(brought up the hard way: from the state the old port allocator could save, the database and
epmd on one port and a kept port held by a stranger, through an `up` SIGKILLed half-way, then
`up` again, which must finish the job),
`certkit run --suite api` (a tempest subset plus certkit's own live checks), a broken driver
each live check must catch, the dummy in DHSS=True mode (share networks and servers), and
`lab down` leaving nothing behind.

Needs root (Debian packages, PostgreSQL as its own user); skips with one line otherwise, but
fails when CERTKIT_REQUIRE_LAB=1. CI subset (see README): SharesNFSTest of manila-tempest-plugin
(4 tests: create/get/delete, snapshot, share from snapshot, one multitenancy-only skip); the whole
plugin (about 900 tests, 10 minutes on 2 cores) runs in benchmarks/live_tempest.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from certkit.lab.processes import tagged
from certkit.livestack.procs import ProcessTable, alive
from certkit.livestack.recovery import PORTS, strays
from certkit.livestack.state import LabState, load_state, save_state
from certkit.profile import load_profile
from tests.conftest import DUMMY_PROFILE, ROOT, beyond_budget, run_certkit, timed
from tests.live import explore_live
from tests.live.timed import switch_lab, timed_certkit

REQUIRED = os.environ.get("CERTKIT_REQUIRE_LAB") == "1"
BROKEN = ROOT / "tests" / "live" / "broken-live.yaml"
SUBSET = r"manila_tempest_tests\.tests\.api\.test_shares\.SharesNFSTest"


DATAPATH_CHECKS = {"test_api_rules_let_the_client_in_and_keep_shares_apart",
                   "test_api_ro_rule_reads_and_cannot_write", "test_api_deny_locks_the_client_out",
                   "test_api_extend_keeps_the_data"}
"""suites/api/test_live_datapath.py: they need a client host, which the dummy profile lacks."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _up_killed_after(env: dict[str, str], line: str, delay: float) -> str:
    """Start `certkit lab up manila`, SIGKILL it `delay` s after it prints `line` (only the
    command: what it started lives on, as after an OOM kill); its output so far."""
    proc = subprocess.Popen([sys.executable, "-m", "certkit.cli", "lab", "up", "manila",
                             "--profile", str(DUMMY_PROFILE)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = []
    try:
        for out in proc.stderr:
            seen.append(out)
            if line in out:
                time.sleep(delay)
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return "".join(seen)


def test_a_sigtermed_up_brings_down_what_it_started(tmp_path):
    """`certkit lab up manila` SIGTERMed once its database and RabbitMQ run (Keystone being set
    up): it brings its lab down and says so in one line; no process of the lab, no directory."""
    if os.geteuid() != 0:
        pytest.skip("the manila lab needs root")
    root = tmp_path / "lab"
    env = {**os.environ, "CERTKIT_MANILA_LAB_DIR": str(root), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "certkit.cli", "lab", "up", "manila", "--profile",
                             str(DUMMY_PROFILE)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = []
    try:
        for out in proc.stderr:
            seen.append(out)
            if "rabbitmq on" in out:
                assert tagged(root), "nothing of the lab runs yet"
                proc.send_signal(signal.SIGTERM)
                break
        seen.append(proc.communicate(timeout=300)[1])
        left, kept = tagged(root), root.exists()  # before the clean-up `down` below
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        run_certkit("lab", "down", "manila", env=env, timeout=300)
    err = "".join(seen).strip().splitlines()
    assert proc.returncode == 143, err[-20:]
    assert err[-1] == ("certkit: lab up manila interrupted by SIGTERM: brought down what it had "
                       "started, nothing of the lab is left"), err[-20:]
    assert left == [] and not kept


def _site_packages(venv: Path) -> list[Path]:
    return list(venv.glob("lib/python*/site-packages"))


@beyond_budget
def test_an_up_sigkilled_during_pip_is_recovered_by_the_next_up(tmp_path):
    """`certkit lab up manila` SIGKILLed with its whole session (pip included, as `kill -9 -PGID`
    or an OOM kill of the group does) while pip is half-way through installing Keystone's venv:
    the next `up` says the venv there is half-installed, makes it again and brings the lab up;
    `down` then leaves nothing of the lab."""
    from certkit.livestack import install

    if os.geteuid() != 0:
        pytest.skip("the manila lab needs root")
    root, venv = tmp_path / "lab", tmp_path / "keystone-venv"
    env = {**os.environ, "CERTKIT_MANILA_LAB_DIR": str(root), "CERTKIT_KEYSTONE_VENV": str(venv),
           "PYTHONPATH": str(ROOT)}
    env.pop("OS_AUTH_URL", None)
    argv = [sys.executable, "-m", "certkit.cli", "lab", "up", "manila", "--profile", str(DUMMY_PROFILE)]
    watch = timed("manila lab up, until SIGKILLed with its installer half-way through Keystone's venv")
    stopwatch = watch.__enter__()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, text=True, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen, installed = [], 0
    try:
        for out in proc.stderr:
            seen.append(out)
            if "installing Keystone into" in out:
                break
        deadline = time.monotonic() + 900
        while proc.poll() is None and time.monotonic() < deadline and installed < 15:
            time.sleep(0.2)  # pip resolves first, then installs one distribution after another
            installed = sum(install.installed_completely(site, d.name[:-len(".dist-info")].rsplit("-", 1)[0])
                            for site in _site_packages(venv) for d in site.glob("*.dist-info"))
        half = installed >= 15 and not install.keystone_venv_complete(venv)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        stopwatch.note = f" ({installed} distributions installed)"
        watch.__exit__(None, None, None)
        with timed("manila lab up after the one SIGKILLed during its install (Keystone's venv made again)"):
            again = run_certkit(*argv[3:], env=env)
        complete = install.keystone_venv_complete(venv)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        down = run_certkit("lab", "down", "manila", env=env, timeout=300)
    assert half, f"pip was not caught half-way ({installed} distributions installed): {''.join(seen)[-2000:]}"
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"installing Keystone into {venv}: the one there is half-installed" in again.stderr
    assert complete and down.returncode == 0, down.stderr[-2000:]
    assert tagged(root) == [] and not root.exists()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The lab, up after recovering from a wedge: {"root", "env", "killed", "shared", "taken"}."""
    if os.geteuid() != 0:
        if REQUIRED:
            pytest.fail("CERTKIT_REQUIRE_LAB=1 but the manila lab needs root")
        pytest.skip("the manila lab needs root (Debian packages, database servers as their users)")
    root = tmp_path_factory.mktemp("manila-lab") / "lab"
    env = {**os.environ, "CERTKIT_MANILA_LAB_DIR": str(root), "CERTKIT_TEMPEST_REGEX": SUBSET,
           "PYTHONPATH": str(ROOT)}
    env.pop("OS_AUTH_URL", None)
    profile = load_profile(DUMMY_PROFILE, check_import=False)
    shared = _free_port()
    try:
        with socket.socket() as stranger:
            stranger.bind(("127.0.0.1", 0))
            stranger.listen()
            taken = stranger.getsockname()[1]
            wedged = LabState.new(str(profile.path), profile.name, "manila-dummy", False)
            wedged.ports = {"db": shared, "epmd": shared, "keystone": taken}
            save_state(root, wedged)
            with timed("manila lab up, until SIGKILLed after RabbitMQ"):
                killed = _up_killed_after(env, "rabbitmq on", 2.0)
            proc = timed_certkit("manila lab up after the killed one (installs included when missing)",
                                 "lab", "up", "manila", "--profile", str(DUMMY_PROFILE), env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        yield {"root": root, "env": env, "killed": killed, "shared": shared, "taken": taken}
    finally:
        run_certkit("lab", "down", "manila", env=env, timeout=300)


def test_a_killed_up_on_colliding_ports_was_finished_by_the_next_up(lab):
    assert "port(s) of epmd, keystone in use by something else or shared" in lab["killed"], lab["killed"]
    state = load_state(lab["root"])
    assert set(state.ports) == set(PORTS) and len(set(state.ports.values())) == len(PORTS), state.ports
    assert state.ports["db"] == lab["shared"] and lab["taken"] not in state.ports.values()
    assert strays(lab["root"], ProcessTable(lab["root"])) == [], "a process no pidfile accounts for"
    assert state.db == "mariadb"


def _report(path: Path) -> dict:
    return json.loads(path.read_text())


def test_lab_up_is_idempotent_and_reports_the_pools(lab):
    root, env = lab["root"], lab["env"]
    pids = {n: ProcessTable(root).pid_of(n) for n in ProcessTable(root).names()}
    proc = timed_certkit("manila lab up, warm (already running)",
                         "lab", "up", "manila", "--profile", str(DUMMY_PROFILE), env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {n: ProcessTable(root).pid_of(n) for n in pids} == pids, "a second `up` restarted services"
    status = run_certkit("lab", "status", "manila", env=env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "@manila-dummy#" in status.stdout
    state_mode = (root / "state.json").stat().st_mode & 0o777
    assert state_mode == 0o600
    assert load_state(root).passwords["admin"] not in proc.stderr + status.stdout


def test_api_suite_reports_tempest_tests_and_live_checks(lab, tmp_path):
    root, env = lab["root"], lab["env"]
    report_path = tmp_path / "api.json"
    proc = timed_certkit("certkit run --suite api (dummy, CI subset + live checks)",
                         "run", str(DUMMY_PROFILE), "--suite", "api", "--no-audit",
                         "--report", str(report_path), env=env)
    report = _report(report_path)
    checks = report["checks"]
    assert checks and all(c["suite"] == "api" for c in checks)
    tempest = {c["variant"]: c for c in checks if c["name"] == "test_tempest"}
    assert len(tempest) == 4, sorted(tempest)
    create = next(c for v, c in tempest.items() if "test_create_get_delete_share" in v)
    assert (create["id"], create["outcome"], create["level"]) == (
        "21ad41fb-04cf-493c-bc2f-66c80220898b", "passed", "required")
    skipped = [c for c in tempest.values() if c["outcome"] == "skipped"]
    assert len(skipped) == 1 and skipped[0]["level"] == "recommended"
    assert "multitenancy" in skipped[0]["message"].lower()
    live = [c for c in checks if c["name"] != "test_tempest"]
    datapath = [c for c in live if c["name"] in DATAPATH_CHECKS]
    assert len({c["name"] for c in datapath}) == len(DATAPATH_CHECKS)
    assert all(c["outcome"] == "skipped" and "no client_hosts" in c["message"]
               for c in datapath), datapath  # the dummy has no client to mount from
    [servers] = [c for c in live if c["name"] == "test_share_server_is_set_up_and_removed_with_its_network"]
    assert servers["outcome"] == "skipped" and "driver_handles_share_servers=False" in servers["message"]
    live = [c for c in live if c not in datapath and c is not servers]
    failed = [f"{c['name']}[{c.get('variant')}]: {c['message']}" for c in live
              if c["outcome"] not in ("passed", "skipped")]
    assert not failed, failed
    passed = {c["name"] for c in live if c["outcome"] == "passed"}
    assert {"test_claimed_capability_is_schedulable", "test_access_rules_reach_active",
            "test_share_service_restart_keeps_shares_and_rules",
            "test_api_and_scheduler_restart_keep_state",
            "test_replica_states_survive_the_manager",
            "test_another_projects_user_cannot_see_the_export_locations"} <= passed
    skipped = [c for c in live if c["outcome"] == "skipped"]
    assert all(c["name"] == "test_replica_states_survive_the_manager" and c["variant"] != "readable"
               for c in skipped), skipped  # only the replication types the dummy does not claim
    assert report["leaks"] == [] and not report["warnings"], report["warnings"]
    assert load_state(root).passwords["admin"] not in report_path.read_text() + proc.stdout + proc.stderr
    # the other project's user and project the export-location check made are gone
    from keystoneclient.v3 import client as keystone

    from certkit.livestack.identity import admin_session

    ks = keystone.Client(session=admin_session(load_state(root)))
    assert not [p.name for p in ks.projects.list() if p.name.startswith("certkit-other-")]
    assert not [u.name for u in ks.users.list() if u.name.startswith("certkit-other-")]


@beyond_budget
def test_exploration_through_the_api_matches_the_model_and_leaves_nothing(lab, tmp_path):
    """--suite explore --explore-tier api: the exploration's rules through tempest.lib, the real
    scheduler and share manager (restarts included); the dummy never diverges from the model."""
    with timed("certkit run --suite explore --explore-tier api (dummy, 2 x 6 steps)") as watch:
        report = explore_live.explore_clean(lab["root"], lab["env"], DUMMY_PROFILE, tmp_path / "explore.json")
        watch.note = f" ({report['explore']['steps']} steps)"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_exploration_deletes_what_it_created_through_the_api(lab, tmp_path, sig):
    with timed(f"explore --explore-tier api: {sig.name} mid-step and its clean-up"):
        explore_live.explore_interrupted(lab["root"], lab["env"], DUMMY_PROFILE, tmp_path / "explore.json", sig)


def test_a_signal_mid_restart_restarts_manila_share_and_deletes_the_share(lab, tmp_path):
    """The SIGTERM leak of the last clean CI run: the signal came while a restart step had
    stopped manila-share, whose deletes then never ran."""
    with timed("replay --explore-tier api: SIGTERM mid-restart and its clean-up"):
        explore_live.replay_interrupted_mid_restart(lab["root"], lab["env"], DUMMY_PROFILE, tmp_path)


@beyond_budget
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGSTOP], ids=["dies", "hangs"])
def test_a_manila_share_that_dies_or_hangs_mid_step_is_one_line_and_leaves_nothing(lab, tmp_path, how):
    """(53 s and 78 s at load 6: beyond the budget.)"""
    with timed(f"replay --explore-tier api: manila-share {how.name} mid-step, its clean-up"):
        explore_live.replay_with_manila_share_killed(lab["root"], lab["env"], DUMMY_PROFILE, tmp_path, how)


def test_restarts_never_leave_two_manila_share_running(lab):
    """The lab's restarts (what the exploration's `restart` step calls): each leaves exactly one
    manila-share master and its workers, none a zombie of the restarting process, also when a
    copy no pidfile names was running (an `up` or restart killed before its pidfile)."""
    from certkit.livestack.manila_services import service_argv
    from certkit.livestack.procs import reap_spawned
    from certkit.livestack.stack import restart_services

    root = lab["root"]
    table = ProcessTable(root)
    state = load_state(root)
    stray = subprocess.Popen(service_argv("manila-share", root, state, root / "manila" / "manila.conf"),
                             env={**lab["env"], "CERTKIT_LAB_TAG": str(root)}, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        with timed("manila lab: 2 manila-share restarts"):
            for _ in range(2):
                before = table.pid_of("manila-share")
                restart_services(root, ["manila-share"], cwd=ROOT)
                assert _one_master_and_its_workers(root) != before
                assert stray.poll() is not None, "the copy no pidfile named still runs"
        reap_spawned()  # what the next restart does first: the last one's may still be exiting
        zombies = [pid for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
                   if _proc_file(pid, "stat").split(b") ")[-1][:1] == b"Z"
                   and int(_proc_file(pid, "stat").split(b") ")[-1].split()[1]) == os.getpid()]
        assert zombies == [], "restarted services left as zombies of the restarting process"
    finally:
        if stray.poll() is None:
            stray.kill()
        stray.wait()


@beyond_budget
def test_up_stops_manila_share_workers_orphaned_by_their_masters_death(lab):
    """Workers that miss their master's death (stopped here; hung alike) are reparented to
    init; the next `up` starts manila-share again and must stop them, though setproctitle left
    them no tag (39.4 s at load 13: beyond the budget; tests/test_lab_procs.py covers the
    same without a lab)."""
    from certkit.livestack.stack import service_processes

    root = lab["root"]
    master = ProcessTable(root).pid_of("manila-share")
    workers = [pid for pid, _ in service_processes(root, "manila-share") if pid != master]
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    os.kill(master, signal.SIGKILL)
    with timed("manila lab: up after manila-share's master was SIGKILLed, its workers stopped"):
        up = run_certkit("lab", "up", "manila", "--profile", str(DUMMY_PROFILE), env=lab["env"])
    assert up.returncode == 0, up.stderr[-2000:]
    assert not [pid for pid in workers if alive(pid)], "workers of the killed master outlived `up`"
    _one_master_and_its_workers(root)


def _one_master_and_its_workers(root: Path) -> int:
    """Every manila-share process of the lab is the pidfile's master or its child (a worker):
    no second master, no worker of an older one. Returns the master."""
    from certkit.lab.processes import parent_of
    from certkit.livestack.stack import service_processes

    master = ProcessTable(root).pid_of("manila-share")
    now = [pid for pid, _ in service_processes(root, "manila-share")]
    assert master in now and len(now) >= 2, now  # Manila's master forks a worker per back end
    assert all(pid == master or parent_of(pid) == master for pid in now), \
        {pid: (parent_of(pid), _proc_file(pid, "cmdline")[:60]) for pid in now}
    return master


def test_broken_driver_is_caught_by_the_live_checks(lab, tmp_path, monkeypatch):
    root, env = lab["root"], lab["env"]
    from certkit.apitier.client import ManilaClient
    from certkit.livestack.targets import resolve_api_target
    from certkit.profile import load_profile

    monkeypatch.setenv("CERTKIT_MANILA_LAB_DIR", str(root))
    client = ManilaClient(resolve_api_target(load_profile(DUMMY_PROFILE), {}), build_interval=0.5)
    share = client.create_share("NFS", 1, None, name="certkit-left-behind")
    client.wait_share(share["id"])
    refused = run_certkit("lab", "up", "manila", "--profile", str(BROKEN), env=env)
    assert refused.returncode == 2 and "still holds 1 share(s) of profile manila-dummy" in refused.stderr
    assert not client.cleanup()
    proc = switch_lab("manila lab: switch to another profile", BROKEN, env)
    assert "switching from profile manila-dummy to manila-dummy-broken-live" in proc.stderr
    report_path = tmp_path / "broken.json"
    run_certkit("run", str(BROKEN), "--suite", "api", "--no-audit", "--report", str(report_path),
             "-k", "capability and security or access_rules_reach_active and NFS or "
                   "share_service_restart or refused and NFS or export_locations_and_snapshots or "
                   "replica_states", env=env)
    report = _report(report_path)
    assert not report["warnings"], report["warnings"]  # everything it created was deleted
    by_name: dict[str, list[dict]] = {}
    for c in report["checks"]:
        by_name.setdefault(c["name"], []).append(c)
    capability = by_name["test_claimed_capability_is_schedulable"]
    assert [c["variant"] for c in capability] == ["security_service_update"], capability
    assert capability[0]["outcome"] == "failed", capability
    assert "security_service_update_support=True could not be scheduled" in capability[0]["message"]
    replicas = {c["variant"]: c for c in by_name["test_replica_states_survive_the_manager"]}
    assert replicas["readable"]["outcome"] == "failed", replicas
    assert "2 active replicas" in replicas["readable"]["message"], replicas
    access = by_name["test_access_rules_reach_active"]
    assert access and all(c["outcome"] == "failed" and "ended in error through the share manager"
                          in c["message"] for c in access), access
    [refused_rule] = by_name["test_refused_rule_ends_in_error_and_spares_the_others"]
    # every rule of this driver ends in error, the valid one first (the check says so, and why)
    assert refused_rule["outcome"] == "failed" and "the valid ip rule ended in error before any " \
        "refused rule was added" in refused_rule["message"], refused_rule
    [exports] = by_name["test_export_locations_and_snapshots_survive_the_manager"]
    assert exports["outcome"] == "failed" and "lists no export location" in exports["message"]
    restart = by_name["test_share_service_restart_keeps_shares_and_rules"]
    assert restart[0]["outcome"] == "failed" and "ended in" in restart[0]["message"], restart


@beyond_budget
def test_exploration_finds_shrinks_and_replays_a_broken_live_driver(lab, tmp_path):
    """After the previous check the lab runs tests/live/broken-live.yaml: the exploration finds
    its divergence through the real manager, shrinks it, and `certkit replay` reproduces it."""
    with timed("explore --explore-tier api: broken live driver found, shrunk, replayed"):
        found, replayed = explore_live.explore_broken(lab["root"], lab["env"], BROKEN, tmp_path)
    assert "no export location" in found["failure"], found


DHSS_SUBSET = ("test_tempest or share_server_is_set_up or access_rules_reach_active and NFS and rw "
               "or replica_states and readable")
"""The plugin's SharesNFSTest (snapshots, shares from snapshots, on its own share networks), the
share-server check, one access check and the replica check (a share server on each back end):
the rest of the live checks ran in DHSS=False mode."""


def test_dhss_true_mode_certifies_the_dummy_with_share_servers(lab, tmp_path, monkeypatch):
    """The running lab switches to the dummy in DHSS=True mode (no second cold `up`): the
    plugin's SharesNFSTest and the live checks run on share networks, each check's share
    server is set up and removed, and a mode switch is refused while a share remains."""
    root, env = lab["root"], lab["env"]
    from certkit.apitier.client import ManilaClient
    from certkit.livestack.targets import resolve_api_target
    from certkit.profile import load_profile

    proc = switch_lab("manila lab: switch to DHSS=True", DUMMY_PROFILE, env, "--dhss", "true")
    assert "(DHSS=True): Manila restarts on an empty database" in proc.stderr
    assert "@manila-dummy-dhss-true#" in proc.stderr and load_state(root).dhss is True
    report_path = tmp_path / "dhss.json"
    run = timed_certkit("certkit run --suite api (dummy DHSS=True, CI subset)",
                        "run", str(DUMMY_PROFILE), "--suite", "api", "--no-audit", "--report",
                        str(report_path), "-k", DHSS_SUBSET, env=env)
    assert load_state(root).passwords["admin"] not in report_path.read_text() + run.stdout + run.stderr
    report = _report(report_path)
    outcomes = {(c["name"], c.get("variant")): c["outcome"] for c in report["checks"]}
    tempest = {v: o for (n, v), o in outcomes.items() if n == "test_tempest"}
    # multitenancy on: the plugin's share-network-only test runs too (DHSS=False skips it)
    assert len(tempest) == 4 and set(tempest.values()) == {"passed"}, tempest
    assert outcomes[("test_share_server_is_set_up_and_removed_with_its_network", None)] == "passed"
    assert outcomes[("test_access_rules_reach_active", "NFS-ip-rw")] == "passed"
    assert outcomes[("test_replica_states_survive_the_manager", "readable")] == "passed"
    assert set(outcomes.values()) == {"passed"}, {k: o for k, o in outcomes.items() if o != "passed"}
    assert (report["verdict"], report["leaks"], report["warnings"]) == ("partial", [], []), report["reasons"]
    assert report["reasons"][0].startswith("only checks matching -k"), report["reasons"]
    assert report["features"]["share_servers"]["status"] == "verified"

    monkeypatch.setenv("CERTKIT_MANILA_LAB_DIR", str(root))
    client = ManilaClient(resolve_api_target(load_profile(DUMMY_PROFILE), {}), build_interval=0.5)
    # every share server of the run (the plugin's and the checks') was removed with its network
    client.wait_for("share servers of the run -> deleted", client.share_servers, lambda s: not s,
                    timeout=60)
    client.share_network_id = client.create_share_network("certkit-left-behind")["id"]
    share = client.wait_share(client.create_share("NFS", 1, name="certkit-left-behind")["id"])
    assert client.show_share_server(share["share_server_id"])["status"] == "active"
    refused = run_certkit("lab", "up", "manila", "--profile", str(DUMMY_PROFILE), "--dhss", "false", env=env)
    assert refused.returncode == 2 and "still holds 1 share(s) of profile manila-dummy" in refused.stderr
    assert load_state(root).dhss is True
    assert not client.cleanup()
    assert client.share_servers() == []


GLUSTERFS_PROFILE = ROOT / "driver_profiles" / "glusterfs-directory-mapped-layout.yaml"
GLUSTERFS_CHECKS = "test_claimed_capability_is_schedulable or test_access_rules_reach_active or test_tempest"


@beyond_budget
def test_glusterfs_directory_layout_runs_in_real_manila_services(lab, tmp_path):
    """The GlusterFS live tier runs: the lab switched to Manila's GlusterFS driver (real
    manila-share, whose do_setup mounts the volume through oslo.privsep's helper, no sudo)
    against the GlusterFS lab; its pool is scheduled, manila-tempest-plugin creates and
    deletes a share on it, and its access rules end in `error` through Manila 23's Ganesha
    helper TypeError (docs/findings/glusterfs-ganesha-update-access-typeerror.md)."""
    from certkit.lab.glusterfs import GlusterFSLab
    from tests.conftest import running_lab

    env = dict(lab["env"])
    with running_lab(GlusterFSLab(), "GlusterFS lab up (for the live tier)") as gluster:
        env.update(gluster.env())
        switch_lab("manila lab: switch to the GlusterFS directory layout", GLUSTERFS_PROFILE, env)
        report_path = tmp_path / "glusterfs-api.json"
        proc = timed_certkit("certkit run --suite api (GlusterFS directory layout, 3 checks)",
                             "run", str(GLUSTERFS_PROFILE), "--suite", "api", "--no-audit",
                             "-k", GLUSTERFS_CHECKS, "--report", str(report_path), env=env)
        switch_lab("manila lab: switch back to the dummy", DUMMY_PROFILE, lab["env"])
    assert report_path.exists(), proc.stderr[-2000:]
    report = _report(report_path)
    ran = {(c["name"], c.get("variant", "")): c for c in report["checks"]}
    [(_, pools)] = [(k, c) for k, c in ran.items() if k[0] == "test_claimed_capability_is_schedulable"][:1]
    assert pools["outcome"] == "passed", pools
    create = next(c for (n, v), c in ran.items() if n == "test_tempest" and "test_create_get_delete_share" in v)
    assert create["outcome"] == "passed", create
    rules = [c for (n, _), c in ran.items() if n == "test_access_rules_reach_active"]
    assert rules and all(c["outcome"] == "failed" and "error" in c["message"] for c in rules), rules
    assert report["verdict"] == "failed" and report["scope"] == ["api"]  # an API-only run certifies nothing


def _proc_file(pid: int, name: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return b""


def test_every_process_of_the_lab_is_found_without_its_pidfile(lab):
    """What `down` and the next `up` find when no pidfile names a process: every process of
    every service, Manila's retitled masters and workers included (setproctitle overwrote the
    tag in their /proc/PID/environ)."""
    from certkit.lab.processes import TAG_ENV, descends_from, session_of

    root = lab["root"]
    table = ProcessTable(root)
    services = {n: table.pid_of(n) for n in table.names() if table.pid_of(n)}
    found = {pid for pid, _ in tagged(root)}
    members = {int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()
               and (session_of(int(e.name)) in {session_of(p) for p in services.values()}
                    or descends_from(int(e.name), set(services.values())))}
    members = {pid for pid in members if alive(pid)}
    assert members - found == set(), {pid: _proc_file(pid, "cmdline")[:80] for pid in members - found}
    retitled = [pid for pid in members if b"master process [" in _proc_file(pid, "cmdline")
                and f"{TAG_ENV}={root}".encode() not in _proc_file(pid, "environ")]
    assert retitled, "no service rewrote its title: this check would not show the fix"


def test_down_leaves_nothing_behind(lab):
    root, env = lab["root"], lab["env"]
    table = ProcessTable(root)
    pids = [table.pid_of(n) for n in table.names()]
    db_dir = load_state(root).db_dir
    proc = run_certkit("lab", "down", "manila", env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert pids and not any(alive(p) for p in pids if p)
    assert tagged(root) == [], "a process of the lab outlived `down` (epmd, a worker)"
    assert not root.exists() and not Path(db_dir).exists()
    again = run_certkit("lab", "down", "manila", env=env, timeout=300)
    assert again.returncode == 0
    status = run_certkit("lab", "status", "manila", env=env)
    assert status.returncode == 1 and "not up" in status.stdout
