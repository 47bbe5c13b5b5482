"""A single-node Ceph cluster in the style of Ceph's vstart.sh (no cephadm, systemd or LVM):
mon, mgr (volumes module), one bluestore OSD on a sparse file, mds, and a CephFS volume.

Cluster state is read as JSON (`--format json`); every daemon runs in the foreground (`-f`) of its
own session, tracked by a pidfile (ceph-mgr must keep a writable stderr, or `fs subvolume
authorize` fails with EBADF inside the mgr).
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from certkit.lab import templates
from certkit.lab.commands import run, run_json, succeeds
from certkit.lab.processes import Daemon, LabError, wait_until

FS_NAME = "cephfs"
CEPH_NICE = -5
"""The cluster's daemons run ahead of the tests beside them (nice -5): seen in CI at load 10,
one `fs subvolume rm` of the scale check overran Manila's 10 s RADOS_TIMEOUT."""


class CephCluster:
    """The cluster whose files live in `lab` and whose monitor listens on `host_ip`."""

    def __init__(self, lab: Path, host_ip: str, timeout: float = 90.0) -> None:
        self.lab = lab
        self.host_ip = host_ip
        self.timeout = timeout
        self.conf = lab / "ceph.conf"
        self.admin_keyring = lab / "client.admin.keyring"
        self.manila_keyring = lab / "client.manila.keyring"
        self.run_dir = lab / "run"
        self.log_dir = lab / "log"

    # -- state, read as JSON ------------------------------------------------------------------
    def ceph(self, *args: str, timeout: float = 20.0) -> Any:
        """A `ceph` command as client.admin, its JSON answer parsed."""
        return run_json(["timeout", str(int(timeout)), "ceph", "-c", str(self.conf), "-k",
                         str(self.admin_keyring), *args, "--format", "json"],
                        f"ceph {' '.join(args)}", timeout + 5)

    def health(self) -> str:
        """HEALTH_OK, HEALTH_WARN, HEALTH_ERR, or 'unreachable'."""
        try:
            return (self.ceph("health", timeout=10) or {}).get("status", "unknown")
        except LabError:
            return "unreachable"

    def all_pgs_active(self) -> bool:
        """Every placement group active (HEALTH_OK can show before PG stats arrive); raises
        with the counts while they are not (the waiter reports the last state seen)."""
        stat = self.ceph("pg", "stat") or {}
        summary = stat.get("pg_summary", stat)  # Pacific nests the counts under pg_summary
        states = summary.get("num_pg_by_state") or []
        total = int(summary.get("num_pgs", 0))
        active = sum(int(s["num"]) for s in states if "active" in s["name"].split("+"))
        if total == 0 or active != total:
            raise LabError(f"{active} of {total} placement groups active")
        return True

    def mds_active(self) -> bool:
        """An MDS of the CephFS volume is active."""
        status = self.ceph("fs", "status", FS_NAME)
        return any(m.get("state") == "active" for m in status.get("mdsmap", []))

    # -- daemons -------------------------------------------------------------------------------
    def daemons(self) -> list[Daemon]:
        """mon, mgr, osd and mds, in start order."""
        def daemon(kind: str, ident: str) -> Daemon:
            return Daemon(f"{kind}.{ident}", [f"ceph-{kind}", "-c", str(self.conf), "-i", ident, "-f"],
                          self.run_dir, self.log_dir, tag=str(self.lab), nice=CEPH_NICE)
        return [daemon("mon", "a"), daemon("mgr", "x"), daemon("osd", "0"), daemon("mds", "a")]

    # -- bring-up --------------------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether the cluster was created (its monitor store is there)."""
        return (self.lab / "mon.a" / "store.db").is_dir()

    def create(self) -> str:
        """A new cluster: ceph.conf, mon and admin keyrings, monmap, monitor store. The fsid."""
        fsid = str(uuid.uuid4())
        for sub in ("run", "log", "mgr.x", "osd.0", "mds.a"):
            (self.lab / sub).mkdir(parents=True, exist_ok=True)
        templates.write(self.conf, "cephfs", "ceph.conf", fsid=fsid, host_ip=self.host_ip, lab=self.lab)
        mon_keyring = self.lab / "mon.a.keyring"
        run(["ceph-authtool", "--create-keyring", str(mon_keyring), "--gen-key", "-n", "mon.",
             "--cap", "mon", "allow *"], "create the monitor keyring")
        run(["ceph-authtool", "--create-keyring", str(self.admin_keyring), "--gen-key", "-n",
             "client.admin", "--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mds",
             "allow *", "--cap", "mgr", "allow *"], "create the admin keyring")
        run(["ceph-authtool", str(mon_keyring), "--import-keyring", str(self.admin_keyring)],
            "import the admin key")
        monmap = self.lab / "monmap"
        run(["monmaptool", "--create", "--clobber", "--fsid", fsid, "--add", "a",
             f"{self.host_ip}:6789", str(monmap)], "create the monitor map")
        run(["ceph-mon", "-c", str(self.conf), "--mkfs", "-i", "a", "--monmap", str(monmap),
             "--keyring", str(mon_keyring)], "ceph-mon --mkfs")
        if not self.exists():
            raise LabError(f"ceph-mon --mkfs left no monitor store in {self.lab / 'mon.a'}")
        return fsid

    def _auth(self, entity: str, keyring: Path, *caps: str) -> None:
        if not (keyring.exists() and keyring.stat().st_size):
            run(["ceph", "-c", str(self.conf), "-k", str(self.admin_keyring), "auth",
                 "get-or-create", entity, *caps, "-o", str(keyring)], f"create the key of {entity}")

    def _prepare_osd(self) -> None:
        """Register OSD 0 and make its store, resumable at every step: the OSD's uuid and key are
        saved before `ceph osd new` (which the monitor repeats idempotently for the same uuid
        and key), and the store counts as made only once `ceph-osd --mkfs` has finished (the
        `prepared` mark). An `up` killed anywhere in between is finished by the next one."""
        osd_dir = self.lab / "osd.0"
        keyring, done, saved = osd_dir / "keyring", osd_dir / "prepared", osd_dir / "osd-uuid"
        if done.exists() or (keyring.exists() and keyring.stat().st_size and not saved.exists()):
            return  # made, by this code or by an older one (keyring written after its mkfs)
        new = osd_dir / "new.json"
        try:
            osd_uuid, secret = saved.read_text().strip(), json.loads(new.read_text())["cephx_secret"]
        except (OSError, ValueError, KeyError):
            osd_uuid = str(uuid.uuid4())
            secret = run(["ceph-authtool", "--gen-print-key"], "generate the OSD key").strip()
            new.write_text(json.dumps({"cephx_secret": secret}))
            saved.write_text(osd_uuid + "\n")
        run(["ceph", "-c", str(self.conf), "-k", str(self.admin_keyring), "osd", "new", osd_uuid,
             "-i", str(new)], "register the OSD")
        for left in osd_dir.iterdir():  # what a killed mkfs left; the saved identity stays
            if left not in (new, saved):
                left.unlink() if not left.is_dir() or left.is_symlink() else shutil.rmtree(left)
        run(["ceph-authtool", "--create-keyring", str(keyring), "--name", "osd.0", "--add-key", secret],
            "write the OSD keyring")
        run(["ceph-osd", "-c", str(self.conf), "-i", "0", "--mkfs", "--osd-uuid", osd_uuid],
            "ceph-osd --mkfs", timeout=120)
        done.touch()

    def start(self) -> None:
        """Start every daemon (those already running are left alone), create the CephFS
        volume, and wait for an active MDS, all PGs active and HEALTH_OK."""
        mon, mgr, osd, mds = self.daemons()
        logs = f"logs: {self.log_dir}"
        mon.start()
        wait_until("the monitor", 30, lambda: self.ceph("mon", "stat", timeout=5), logs)
        self._auth("mgr.x", self.lab / "mgr.x" / "keyring", "mon", "allow profile mgr", "osd",
                   "allow *", "mds", "allow *")
        mgr.start()
        self._prepare_osd()
        osd.start()
        self._auth("mds.a", self.lab / "mds.a" / "keyring", "mon", "allow profile mds", "osd",
                   "allow rw tag cephfs *=*", "mds", "allow", "mgr", "allow profile mds")
        mds.start()
        wait_until("the mgr volumes module", 60, lambda: self.ceph("fs", "volume", "ls") is not None, logs)
        if not any(fs.get("name") == FS_NAME for fs in self.ceph("fs", "ls") or []):
            run(["ceph", "-c", str(self.conf), "-k", str(self.admin_keyring), "fs", "volume",
                 "create", FS_NAME], "create the CephFS volume", timeout=120)
        succeeds(["ceph", "-c", str(self.conf), "-k", str(self.admin_keyring), "fs", "set", FS_NAME,
                  "standby_count_wanted", "0"])
        for daemon in (mon, mgr, osd, mds):
            daemon.expect_running()
        wait_until("an active MDS", self.timeout, self.mds_active, logs)
        wait_until("all placement groups active", self.timeout, self.all_pgs_active, logs)
        wait_until("HEALTH_OK", self.timeout, lambda: self.health() == "HEALTH_OK", logs)
        # The identity Manila's driver uses (Manila's documented caps for the native driver).
        self._auth("client.manila", self.manila_keyring, "mon", "allow r", "mgr", "allow rw")
        self.manila_keyring.chmod(0o644)
