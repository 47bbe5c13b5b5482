"""The CephFS lab: a single-node Ceph, a client host (network namespace + sshd) for the data
path, NFS-Ganesha with FSAL_CEPH for the cephfs-nfs profile, and Debian's Ceph Python bindings
made importable from certkit's Python.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from certkit.lab import clienthost, templates
from certkit.lab.base import mounts_under, root_and_debian
from certkit.lab.ceph import CephCluster
from certkit.lab.ganesha import Ganesha
from certkit.lab.commands import say
from certkit.lab.processes import Daemon, start_time, tagged

PACKAGES = ("ceph-mon", "ceph-mgr", "ceph-osd", "ceph-mds", "ceph-fuse", "ceph-common",
            "python3-rados", "python3-cephfs", "python3-ceph-argparse", "ceph-mgr-modules-core",
            "openssh-server", "openssh-client", "iproute2", "procps", "nfs-ganesha",
            "nfs-ganesha-ceph", "dbus", "sqlite3", "libnfs-utils")
BINDINGS = ("rados*.so", "cephfs*.so", "ceph_argparse.py")
DIST_PACKAGES = Path("/usr/lib/python3/dist-packages")
PTH_NAME = "certkit-lab-ceph.pth"


class CephFSLab(clienthost.ClientHostLab):
    """`certkit lab up|down|status|env cephfs`."""

    name = "cephfs"

    def __init__(self, directory: Path | None = None) -> None:
        super().__init__(directory)
        self.network = clienthost.default_network()
        self.timeout = float(os.environ.get("CERTKIT_LAB_TIMEOUT", "90"))
        self.cluster = CephCluster(self.dir, self.network.host_ip, self.timeout)
        self.client = clienthost.SshClientHost(self.network, self.dir, self.cluster.run_dir,
                                               self.cluster.log_dir)
        self.ssh = self.client.ssh
        self.ganesha = self.dir / "ganesha"
        self.nfs = Ganesha(self.ganesha, self.cluster.run_dir, self.cluster.log_dir,
                           {"CEPH_CONF": str(self.cluster.conf)}, tag=str(self.dir))
        self.pylib = self.dir / "pylib"

    # -- daemons beyond the cluster -------------------------------------------------------------
    def sshd(self) -> Daemon:
        """The client host's sshd (certkit/lab/clienthost.py)."""
        return self.client.sshd()

    def ganesha_nfsd(self) -> Daemon:
        """ganesha.nfsd in the foreground; FSAL_CEPH finds the cluster through CEPH_CONF."""
        return self.nfs.nfsd()

    def dbus(self) -> Daemon:
        """A D-Bus system bus, started only when the machine has none."""
        return self.nfs.dbus()

    # -- up ------------------------------------------------------------------------------------------
    def can_run(self) -> str | None:
        return root_and_debian("CephFS", "network namespaces, Debian packages", "Ceph packages",
                               "/usr/bin/ceph-mon")

    def up(self) -> None:
        t0, t1 = self.begin_up(PACKAGES)
        self.network.up()
        if not self.cluster.exists():
            self.cluster.create()
        self.cluster.start()
        self._start_client_host()
        self._start_ganesha()
        self._link_bindings()
        say(f"up: cluster healthy, client host {self.network.netns} at {self.network.client_ip} (ssh)")
        say(f"figures: packages {t1 - t0:.1f} s, cluster+client {time.monotonic() - t1:.1f} s, "
            f"total {time.monotonic() - t0:.1f} s")

    def _start_client_host(self) -> None:
        self.client.start()
        (self.dir / "client").mkdir(exist_ok=True)
        templates.write(self.dir / "client" / "ceph.conf", "cephfs", "client-ceph.conf",
                        host_ip=self.network.host_ip)

    @property
    def serves_nfs(self) -> bool:
        """Whether this lab runs NFS-Ganesha: only on the shared client namespace. Ganesha owns
        the machine's one D-Bus name `org.ganesha.nfsd`, so a lab on a second namespace (or any
        lab while another one's Ganesha runs) could not start its own: it serves the native
        protocol only (docs/labs/cephfs.md)."""
        return self.network.netns == clienthost.DEFAULT_NETNS

    def _start_ganesha(self) -> None:
        if not self.serves_nfs:
            say(f"up: no NFS-Ganesha on client namespace {self.network.netns} (one per machine, "
                "on the shared namespace): cephfs-native only")
            return
        self.nfs.start("cephfs", host_ip=self.network.host_ip)

    def _link_bindings(self) -> None:
        """Debian's rados/cephfs/ceph_argparse (built for CPython 3.11) for this Python."""
        self.pylib.mkdir(exist_ok=True)
        for pattern in BINDINGS:
            for found in DIST_PACKAGES.glob(pattern):
                link = self.pylib / found.name
                if not link.is_symlink():
                    link.symlink_to(found)
        _pth_path(self.instance()).write_text(f"{self.pylib}\n")
        if str(self.pylib) not in sys.path:
            sys.path.append(str(self.pylib))

    # -- down ------------------------------------------------------------------------------------
    def _tracked(self) -> list[tuple[int, int | None]]:
        """Every process the lab started (pidfiles) and every process in the client namespace."""
        found = []
        for pidfile in sorted(self.cluster.run_dir.glob("*.pid.json")):
            record = Daemon(pidfile.name[:-len(".pid.json")], [], self.cluster.run_dir,
                            self.cluster.log_dir).tracked()
            if record:
                found.append(record)
        if self.holds_client_host():  # else the namespace's processes are another lab's
            found += [(pid, start_time(pid)) for pid in self.network.pids()]
        return found + [p for p in tagged(self.dir) if p not in found]  # what no pidfile names

    def down(self) -> None:
        t0 = time.monotonic()
        bus_was_ours = self.nfs.bus_is_ours()
        self.kill_all(self._tracked())
        for mountpoint in mounts_under(self.dir):
            subprocess.run(["umount", "-l", mountpoint], capture_output=True)
        if bus_was_ours:
            self.nfs.forget_bus()
        _pth_path(self.instance()).unlink(missing_ok=True)
        self.finish_down(t0, lambda: mounts_under(self.dir))

    # -- status / env ----------------------------------------------------------------------------
    def status(self) -> bool:
        if not self.cluster.conf.exists():
            print("cephfs lab: down")
            return False
        health = self.cluster.health()
        daemons = [*self.cluster.daemons(), self.sshd(), *([self.ganesha_nfsd()] if self.serves_nfs else [])]
        stopped = [d.name for d in daemons if d.pid() is None]
        self.print_status(health, stopped)
        return health == "HEALTH_OK" and not stopped

    def env(self) -> dict[str, str]:
        return {
            "CERTKIT_CEPH_CONF": str(self.cluster.conf),
            "CERTKIT_CEPH_AUTH_ID": "manila",
            "CERTKIT_CEPH_KEYRING": str(self.cluster.manila_keyring),
            "CERTKIT_CEPH_CLIENT_CONF": str(self.dir / "client" / "ceph.conf"),
            **self.client.env(),
            "CERTKIT_LAB_PYLIB": str(self.pylib),
        }


def _pth_path(instance: str = CephFSLab.name) -> Path:
    """The venv's .pth naming the lab's pylib: one per lab instance, so the `down` of one of two
    labs sharing a venv (the shared namespace's and a second one's) leaves the other's imports."""
    name = PTH_NAME if instance == CephFSLab.name else PTH_NAME.replace(".pth", f"@{instance.partition('@')[2]}.pth")
    return Path(sysconfig.get_paths()["purelib"]) / name

