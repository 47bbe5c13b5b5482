"""The GlusterFS lab: a real glusterd, a quota-enabled volume and NFS-Ganesha (FSAL_GLUSTER) on
this machine, Manila's GlusterFS driver (directory-mapped layout) run through the contract and
data-path suites, and the client-host claim that keeps two labs out of one client namespace.

One `lab up` for the module, under the client-host lock (the CephFS tests take the same lock).
Needs root and Debian's glusterfs-server; skips with one line otherwise, but fails when
CERTKIT_REQUIRE_LAB=1 (CI sets it through .ci/run).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from certkit.lab import clienthost
from certkit.lab.gluster import CLI_SOCKET, GlusterCluster
from certkit.lab.glusterfs import POOL_VOLUMES, SHARED_VOLUME, GlusterFSLab
from certkit.lab.processes import LabError, is_alive
from tests.conftest import FIGURES, REQUIRE_LAB, ROOT, beyond_budget, client_host_lock, run_certkit, timed
from tests.lab_kill import fired, lab_env, lab_leftovers, tripwire
from tests.nfs_acl import exercise_export_acls

PROFILE = ROOT / "driver_profiles" / "glusterfs-directory-mapped-layout.yaml"
#: Manila 23's GlusterFS Ganesha helper calls GaneshaNASHelper.update_access without its
#: update_rules argument (docs/findings/glusterfs-ganesha-update-access-typeerror.md).
GANESHA_TYPEERROR = "missing 1 required positional argument: 'update_rules'"
#: glusterd refuses a second quota transaction on a volume while one runs; the directory layout
#: neither serialises nor retries (docs/findings/glusterfs-directory-quota-concurrent-transaction.md).
QUOTA_RACE = "Another transaction is in progress"
#: Gluster snapshots need bricks on thin LVM; this machine has no device-mapper, so no thin LV.
#: Without lvm2 installed Gluster says so first; with it, it names the bricks.
SNAPSHOT_REFUSALS = ("LVM commands not found, snapshot functionality is disabled",
                     "Snapshot is supported only for thin provisioned LV")


# -- the client-host claim, without a lab ---------------------------------------------------------
def test_a_second_lab_cannot_claim_the_client_host(tmp_path, monkeypatch):
    monkeypatch.setattr(clienthost, "RECORDS", tmp_path / "records")
    ceph_dir, gluster_dir = tmp_path / "ceph", tmp_path / "gluster"
    ceph_dir.mkdir()
    gluster_dir.mkdir()
    clienthost.claim("cephfs", ceph_dir)
    clienthost.claim("cephfs", ceph_dir)  # `up` on a running lab claims again: no error
    with pytest.raises(LabError) as refused:
        clienthost.claim("glusterfs", gluster_dir)
    message = str(refused.value)
    assert "\n" not in message and "held by the cephfs lab" in message
    assert "certkit lab down cephfs" in message
    clienthost.release("glusterfs")  # not the holder: nothing changes
    assert clienthost.holder()["lab"] == "cephfs"
    clienthost.release("cephfs")
    clienthost.claim("glusterfs", gluster_dir)
    assert clienthost.holder()["lab"] == "glusterfs"


def test_a_claim_whose_lab_directory_is_gone_does_not_block(tmp_path, monkeypatch):
    """A lab killed before its `down` (directory removed by hand) leaves no lasting claim."""
    monkeypatch.setattr(clienthost, "RECORDS", tmp_path / "records")
    gone = tmp_path / "gone"
    gone.mkdir()
    clienthost.claim("cephfs", gone)
    gone.rmdir()
    clienthost.claim("glusterfs", tmp_path)
    assert clienthost.holder() == {"lab": "glusterfs", "dir": str(tmp_path), "pid": os.getpid()}


def test_down_of_a_lab_that_does_not_hold_the_client_host_leaves_the_holders_lab(tmp_path, monkeypatch):
    """Seen 2026-12-03 18:22: a GlusterFS `down` run for another directory while this worktree's
    lab held the client host killed its bricks, quotad, Ganesha and Manila's FUSE mount (found
    by the client host's address), mid-run. Such a `down` now takes only what its own directory
    names; the holder's `down` still finds its processes by the address."""
    monkeypatch.setattr(clienthost, "RECORDS", tmp_path / "records")
    holder_dir = tmp_path / "running"
    holder_dir.mkdir()
    clienthost.claim("glusterfs", holder_dir)
    host_ip = GlusterFSLab(holder_dir).network.host_ip
    # A stand-in for the running lab's brick: its argv names the client host's address.
    brick = subprocess.Popen(["sh", "-c", "sleep 60", "-s", f"{host_ip} --volfile-id manila"])
    try:
        time.sleep(0.2)
        stranger = GlusterFSLab(tmp_path / "stale")
        stranger.dir.mkdir()
        assert not stranger.holds_client_host()
        assert brick.pid not in dict(stranger._lab_processes())
        holder = GlusterFSLab(holder_dir)
        assert holder.holds_client_host() and brick.pid in dict(holder._lab_processes())
        stranger.finish_down(time.monotonic(), stranger._gluster_mounts)
        assert clienthost.holder()["dir"] == str(holder_dir), "a stranger's down released the claim"
        assert brick.poll() is None and not stranger.dir.exists()
    finally:
        brick.kill()
        brick.wait()


def test_down_removes_only_what_gluster_added_to_machine_directories(tmp_path, monkeypatch):
    """Sockets, logs and scratch files Gluster writes at its compiled-in paths go with the lab;
    what was there before `up` (another tool's file, the package's empty log directory) stays."""
    from certkit.lab import gluster

    run, log = tmp_path / "run-gluster", tmp_path / "log-glusterfs"
    run.mkdir()
    log.mkdir()
    (log / "kept.log").write_text("before")
    monkeypatch.setattr(gluster, "MACHINE_DIRS", (run, log))
    monkeypatch.setattr(gluster, "CLI_SOCKET", tmp_path / "glusterd.socket")
    lab = GlusterFSLab(tmp_path / "lab")
    lab.dir.mkdir()
    lab.before.write_text(json.dumps(GlusterCluster.machine_files()))
    (run / "abc.socket").write_text("")
    (run / "vols" / "manila").mkdir(parents=True)
    (run / "vols" / "manila" / "brick.pid").write_text("1")
    (log / "bricks").mkdir()
    (log / "bricks" / "brick.log").write_text("x")
    (log / "cli.log").write_text("x")
    (tmp_path / "glusterd.socket").write_text("")
    lab._remove_machine_files()
    assert GlusterCluster.machine_files() == [str(log / "kept.log")]


# -- `lab up` interrupted at an exact step (tests/lab_kill.py), each on a lab of its own --------------
def _fresh_lab(client_host_labs, tmp_path) -> GlusterFSLab:
    """A lab directory of the test's own; this process's client-host labs down first (the child
    `certkit` or pytest takes the client host itself)."""
    gluster = GlusterFSLab(tmp_path / "lab")
    reason = gluster.can_run()
    if reason:
        if REQUIRE_LAB:
            pytest.fail(f"CERTKIT_REQUIRE_LAB=1 but {reason}")
        pytest.skip(reason)
    client_host_labs.release_all()
    return gluster


def _assert_lab_gone(gluster: GlusterFSLab, machine_before: list[str]) -> None:
    assert lab_leftovers(gluster.dir) == []
    assert gluster._lab_processes() == [] and gluster._gluster_mounts() == []
    assert not gluster.network.leftovers() and not CLI_SOCKET.exists()
    assert set(GlusterCluster.machine_files()) <= set(machine_before)
    assert clienthost.holder(gluster.network.netns) is None, "the client host is still claimed"


#: Where `up` is stopped: in the middle of the volumes (glusterd, two bricks and quotad run),
#: between Gluster and the client host, and with Ganesha started but not yet answering.
STEPS = {"volumes": ("gluster", "create manila-vol-1G-2"), "client-host": ("ssh-keygen", "-t ed25519"),
         "ganesha": ("dbus-send", "org.ganesha.nfsd.exportmgr.ShowExports")}


@pytest.mark.parametrize("step,sig", [("volumes", signal.SIGTERM),
                                      pytest.param("client-host", signal.SIGINT, marks=beyond_budget),
                                      pytest.param("ganesha", signal.SIGTERM, marks=beyond_budget)])
def test_an_interrupted_up_brings_down_what_it_started(client_host_labs, tmp_path, step, sig):
    gluster = _fresh_lab(client_host_labs, tmp_path)
    command, words = STEPS[step]
    env = lab_env(tripwire(tmp_path / "bin", command, words, sig), gluster.dir)
    with client_host_lock():
        machine_before = GlusterCluster.machine_files()
        proc = run_certkit("lab", "up", "glusterfs", env=env, timeout=600)
        try:
            assert fired(tmp_path / "bin", command), proc.stderr[-2000:]
            assert proc.returncode == 128 + sig, proc.stderr[-2000:]
            line = proc.stderr.strip().splitlines()[-1]
            assert line == (f"certkit: lab up glusterfs interrupted by {sig.name}: brought down what it "
                            "had started, nothing of the lab is left"), proc.stderr[-2000:]
            _assert_lab_gone(gluster, machine_before)
        finally:
            run_certkit("lab", "down", "glusterfs", env=env)


@beyond_budget
def test_an_up_sigkilled_half_way_is_finished_by_the_next_and_down_leaves_nothing(client_host_labs, tmp_path):
    """SIGKILL between two volumes (the bricks and quotad run, no pidfile of the `up` is
    finished); the next `up`, itself SIGTERMed at Ganesha, leaves that lab as it was (it was
    there before); a third `up` finishes it; `down` removes it all."""
    gluster = _fresh_lab(client_host_labs, tmp_path)
    killed = lab_env(tripwire(tmp_path / "kill", "gluster", "create manila-vol-1G-3", signal.SIGKILL), gluster.dir)
    stopped = lab_env(tripwire(tmp_path / "term", "dbus-send", "org.ganesha.nfsd.exportmgr.ShowExports", signal.SIGTERM), gluster.dir)
    with client_host_lock():
        machine_before = GlusterCluster.machine_files()
        try:
            proc = run_certkit("lab", "up", "glusterfs", env=killed, timeout=600)
            assert proc.returncode == -signal.SIGKILL and fired(tmp_path / "kill", "gluster"), proc.stderr
            assert gluster.cluster.glusterd().pid() and gluster.cluster.daemon_pids(), "killed too early"
            proc = run_certkit("lab", "up", "glusterfs", env=stopped, timeout=600)
            assert proc.returncode == 128 + signal.SIGTERM, proc.stderr[-2000:]
            assert "there before this `up`, so it is left as it is" in proc.stderr.strip().splitlines()[-1]
            assert gluster.cluster.glusterd().pid() and gluster.dir.is_dir()
            proc = run_certkit("lab", "up", "glusterfs", env=lab_env(os.environ, gluster.dir), timeout=600)
            assert proc.returncode == 0, proc.stderr[-2000:]
            status = run_certkit("lab", "status", "glusterfs", env=lab_env(os.environ, gluster.dir))
            assert status.returncode == 0 and "5/5 bricks online" in status.stdout, status.stdout
        finally:
            down = run_certkit("lab", "down", "glusterfs", env=lab_env(os.environ, gluster.dir))
        assert down.returncode == 0, down.stderr
        _assert_lab_gone(gluster, machine_before)


@pytest.mark.parametrize("when", ["during its up", pytest.param("while holding it", marks=beyond_budget)])
def test_a_sigtermed_test_process_brings_its_lab_down(client_host_labs, tmp_path, when):
    """A pytest lane (tests/lab_holder.py, through ClientHostLabs) SIGTERMed while its GlusterFS
    lab comes up, or while a test holds it: the lane brings the lab down before it exits."""
    gluster = _fresh_lab(client_host_labs, tmp_path)
    env = lab_env({**os.environ, "PYTHONPATH": str(ROOT)}, gluster.dir)
    if when == "during its up":
        env = lab_env(tripwire(tmp_path / "bin", "ssh-keygen", "-t ed25519", signal.SIGTERM), gluster.dir)
    machine_before = GlusterCluster.machine_files()  # the lane takes the client host's lock itself
    lane = subprocess.Popen([sys.executable, "-m", "pytest", "tests/lab_holder.py", "-s", "-q",
                             "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "lane")],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if when == "while holding it":
            for line in lane.stdout:
                if "holding the GlusterFS lab" in line:
                    break
            lane.send_signal(signal.SIGTERM)
        out, _ = lane.communicate(timeout=600)
    finally:
        if lane.poll() is None:
            lane.kill()
            lane.wait()
        run_certkit("lab", "down", "glusterfs", env=env)
    assert lane.returncode == 2 and "KeyboardInterrupt" in out, out[-3000:]  # pytest: interrupted
    with client_host_lock():
        _assert_lab_gone(gluster, machine_before)


# -- the lab -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lab(client_host_labs):
    """Up for this module (a CephFS lab this process has up is brought down first: one client
    host), down at its end, then checked to have left nothing."""
    client_host_labs.release_all()  # before the snapshot of the machine's files: CephFS's down
    machine_before = GlusterCluster.machine_files()
    gluster = client_host_labs.use(GlusterFSLab, "GlusterFS lab up (glusterd, 5 volumes, Ganesha, client host)")
    try:
        yield gluster
        pids = [p for p, _ in gluster._lab_processes()]
    finally:
        client_host_labs.release(GlusterFSLab.name)
    _assert_nothing_left(gluster, pids, machine_before)


def _assert_nothing_left(gluster: GlusterFSLab, pids: list[int], machine_before: list[str]) -> None:
    assert not any(is_alive(pid) for pid in pids), "a lab process survived `down`"
    assert not gluster.dir.exists() and not gluster.network.leftovers()
    assert not CLI_SOCKET.exists()
    assert set(GlusterCluster.machine_files()) <= set(machine_before), \
        "the lab left files in Gluster's machine-wide directories"
    assert clienthost.holder(gluster.network.netns) is None, "the client host is still claimed after `down`"


def test_lab_is_healthy_claims_the_client_host_and_up_is_idempotent(lab):
    start = time.monotonic()
    lab.up()
    assert time.monotonic() - start < 30, "a second `lab up` should only check the running lab"
    assert lab.status()
    proc = run_certkit("lab", "status", "glusterfs")
    assert proc.returncode == 0 and "5/5 bricks online" in proc.stdout, proc.stdout + proc.stderr
    assert clienthost.holder(lab.network.netns)["lab"] == "glusterfs"
    refused = run_certkit("lab", "up", "cephfs")
    assert refused.returncode != 0 and "held by the glusterfs lab" in refused.stderr, refused.stderr
    volumes = lab.cluster.volumes()
    assert set(volumes) == {SHARED_VOLUME, *POOL_VOLUMES}
    assert lab.cluster.xml("volume", "get", SHARED_VOLUME, "features.quota") \
        .findtext(".//Opt/Value") == "on"
    # The two limits the profiles and docs/labs/glusterfs.md state, as this Gluster build shows them:
    # no Gluster-NFS server (so Ganesha serves NFS), and no snapshots without thin LVM.
    xlators = Path(subprocess.run(["glusterfs", "--print-xlatordir"], capture_output=True,
                                  text=True, check=True).stdout.strip())
    assert (xlators / "protocol").is_dir() and not (xlators / "nfs").exists()
    snap = subprocess.run(["gluster", "--mode=script", "snapshot", "create", "certkit-probe",
                           POOL_VOLUMES[0], "no-timestamp"], capture_output=True, text=True)
    assert snap.returncode != 0 and any(r in snap.stdout + snap.stderr for r in SNAPSHOT_REFUSALS), snap
    # glusterd and every brick listen on the lab's address only, never on all interfaces.
    listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
    gluster_lines = [line for line in listening.splitlines() if "gluster" in line]
    assert gluster_lines and all(f"{lab.network.host_ip}:" in line for line in gluster_lines), gluster_lines


def test_nfs_identities_are_judged_by_ganesha(lab):
    """The NFS data path's identities are client addresses Ganesha itself tells apart: a rw,
    a ro and an unlisted address on a hand-written FSAL_GLUSTER export (tests/nfs_acl.py)."""
    with timed("NFS identities against Ganesha (FSAL_GLUSTER, libnfs)"):
        fsal = f"    Name = GLUSTER;\n    Hostname = {lab.network.host_ip};\n    Volume = {SHARED_VOLUME};\n"
        exercise_export_acls(lab.env(), lab.ganesha.dir / "export.d", lab.network.host_ip, fsal)


def test_directory_layout_certified_against_the_lab(lab, tmp_path):
    """What Manila 23's GlusterFS driver does on the lab, claim by claim (docs/labs/glusterfs.md)."""
    report_path = tmp_path / "glusterfs.json"
    proc = run_certkit("run", str(PROFILE), "--suite", "contract", "--suite", "datapath",
                       "--report", str(report_path))
    print(proc.stdout[-1500:], file=sys.stderr)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    report = json.loads(report_path.read_text())
    FIGURES["GlusterFS directory layout certification (contract + data path)"] = (
        f"{report['duration']:.1f} s, {report['summary']['passed']} checks passed, "
        f"verdict {report['verdict']}")
    assert report["verdict"] == "not-certified"
    features = {name: f["status"] for name, f in report["features"].items() if f["claimed"]}
    assert features.pop("access_ip") == features.pop("access_ro") == "failed"
    assert features.pop("ensure_shares") == "verified"
    for check in report["checks"]:
        if check["outcome"] in ("failed", "error"):  # only the two driver findings
            assert GANESHA_TYPEERROR in check["message"] or (
                check["name"] == "test_parallel_create_and_delete" and QUOTA_RACE in check["message"]), check
    contract = {c["name"] + (f"[{c['variant']}]" if c.get("variant") else ""): c["outcome"]
                for c in report["checks"] if c["suite"] == "contract"}
    for name in ("test_create_and_delete_share[NFS]", "test_extend_share", "test_shrink_share",
                 "test_second_instance_ensures_existing_shares", "test_do_setup_and_check_for_setup_error"):
        assert contract[name] == "passed", (name, contract[name])
    datapath = {c["name"]: c["message"] for c in report["checks"] if c["suite"] == "datapath"}
    for name in ("test_revert_restores_snapshot_data", "test_share_from_snapshot_holds_the_snapshot_data"):
        assert "is not claimed" in datapath.pop(name)
    # The data path runs (libnfs from the client host) and stops at the first grant: the TypeError.
    assert len(datapath) == 9 and all(GANESHA_TYPEERROR in m for m in datapath.values()), datapath
    assert set(features.values()) == {"failed"}, features
    # Every leak is an access rule the driver could not deny (the same TypeError), nothing else.
    assert all(leak["kind"] == "access_rule" and GANESHA_TYPEERROR in leak["error"]
               for leak in report["leaks"]), report["leaks"][:3]
    shares = [p.name for p in (lab.cluster.bricks / SHARED_VOLUME).iterdir() if p.name.startswith("share-")]
    assert shares == [], f"shares left on the volume's brick: {shares}"
