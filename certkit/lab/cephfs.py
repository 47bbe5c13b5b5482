"""The CephFS lab: a single-node Ceph, a client host (network namespace + sshd) for the data
path, NFS-Ganesha with FSAL_CEPH for the cephfs-nfs profile, and Debian's Ceph Python bindings
made importable from certkit's Python.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from certkit.lab import packages, templates
from certkit.lab.base import Lab
from certkit.lab.ceph import CephCluster
from certkit.lab.commands import run, say, succeeds
from certkit.lab.network import ClientNetwork
from certkit.lab.processes import Daemon, LabError, kill_and_wait, start_time, tagged, wait_until

PACKAGES = ("ceph-mon", "ceph-mgr", "ceph-osd", "ceph-mds", "ceph-fuse", "ceph-common",
            "python3-rados", "python3-cephfs", "python3-ceph-argparse", "ceph-mgr-modules-core",
            "openssh-server", "openssh-client", "iproute2", "procps", "nfs-ganesha",
            "nfs-ganesha-ceph", "dbus", "sqlite3")
BINDINGS = ("rados*.so", "cephfs*.so", "ceph_argparse.py")
DIST_PACKAGES = Path("/usr/lib/python3/dist-packages")
PTH_NAME = "certkit-lab-ceph.pth"
BUS_SOCKET = Path("/run/dbus/system_bus_socket")


class CephFSLab(Lab):
    """`certkit lab up|down|status|env cephfs`."""

    name = "cephfs"

    def __init__(self, directory: Path | None = None) -> None:
        super().__init__(directory)
        env = os.environ.get
        self.network = ClientNetwork(env("CERTKIT_LAB_NETNS", "certkit-client"), "ckc-host",
                                     "ckc-client", env("CERTKIT_LAB_HOST_IP", "10.251.0.1"),
                                     env("CERTKIT_LAB_CLIENT_IP", "10.251.0.2"))
        self.timeout = float(env("CERTKIT_LAB_TIMEOUT", "90"))
        self.cluster = CephCluster(self.dir, self.network.host_ip, self.timeout)
        self.ssh = self.dir / "ssh"
        self.ganesha = self.dir / "ganesha"
        self.pylib = self.dir / "pylib"

    # -- daemons beyond the cluster -------------------------------------------------------------
    def _daemon(self, name: str, argv: list[str], **env: str) -> Daemon:
        return Daemon(name, argv, self.cluster.run_dir, self.cluster.log_dir, env, tag=str(self.dir))

    def sshd(self) -> Daemon:
        """The client host's sshd, in the foreground inside the namespace."""
        return self._daemon("sshd", ["ip", "netns", "exec", self.network.netns, "/usr/sbin/sshd",
                                     "-D", "-f", str(self.ssh / "sshd_config"),
                                     "-E", str(self.cluster.log_dir / "sshd.log")])

    def ganesha_nfsd(self) -> Daemon:
        """ganesha.nfsd in the foreground; FSAL_CEPH finds the cluster through CEPH_CONF."""
        return self._daemon("ganesha", ["ganesha.nfsd", "-F", "-f", str(self.ganesha / "ganesha.conf"),
                                        "-L", str(self.cluster.log_dir / "ganesha.log"),
                                        "-p", str(self.cluster.run_dir / "ganesha.pid"),
                                        "-N", "NIV_EVENT"], CEPH_CONF=str(self.cluster.conf))

    def dbus(self) -> Daemon:
        """A D-Bus system bus, started only when the machine has none."""
        return self._daemon("dbus", ["dbus-daemon", "--system", "--nofork", "--nopidfile"])

    # -- up ------------------------------------------------------------------------------------------
    def can_run(self) -> str | None:
        if os.geteuid() != 0:
            return "the CephFS lab needs root (network namespaces, Debian packages)"
        if not Path("/usr/bin/apt-get").exists() and not Path("/usr/bin/ceph-mon").exists():
            return "the CephFS lab needs Debian's Ceph packages (apt-get not found)"
        return None

    def up(self) -> None:
        reason = self.can_run()
        if reason:
            raise LabError(reason)
        t0 = time.monotonic()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.record()
        installed = packages.ensure(PACKAGES, self.dir / "apt.log")
        say(f"packages: {'installed ' + ' '.join(installed) if installed else 'all present'}")
        t1 = time.monotonic()
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
        self.ssh.mkdir(mode=0o700, exist_ok=True)
        Path("/run/sshd").mkdir(exist_ok=True)
        for key, comment in (("host_ed25519", "certkit-lab-host"), ("client_ed25519", "certkit-lab-client")):
            if not (self.ssh / key).exists():
                run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.ssh / key),
                     "-C", comment], f"generate the {key} key")
        shutil.copyfile(self.ssh / "client_ed25519.pub", self.ssh / "authorized_keys")
        host_key = (self.ssh / "host_ed25519.pub").read_text().split()[:2]
        (self.ssh / "known_hosts").write_text(f"{self.network.client_ip} {' '.join(host_key)}\n")
        templates.write(self.ssh / "sshd_config", "cephfs", "sshd_config", mode=0o600,
                        client_ip=self.network.client_ip, ssh=self.ssh, lab=self.dir,
                        netns=self.network.netns)
        (self.dir / "client").mkdir(exist_ok=True)
        templates.write(self.dir / "client" / "ceph.conf", "cephfs", "client-ceph.conf",
                        host_ip=self.network.host_ip)
        sshd = self.sshd()
        sshd.start()

        def listening() -> bool:
            sshd.expect_running()
            with socket.create_connection((self.network.client_ip, 22), timeout=1):
                return True
        wait_until(f"sshd in {self.network.netns}", 15, listening, f"log: {self.cluster.log_dir / 'sshd.log'}")

    def _start_ganesha(self) -> None:
        (self.ganesha / "export.d").mkdir(parents=True, exist_ok=True)
        (self.ganesha / "recovery").mkdir(exist_ok=True)
        index = self.ganesha / "export.d" / "INDEX.conf"
        if not index.exists():
            index.write_text("")
        templates.write(self.ganesha / "ganesha.conf", "cephfs", "ganesha.conf",
                        host_ip=self.network.host_ip, ganesha=self.ganesha)
        bus = self.dbus()
        if bus.pid() is None and not BUS_SOCKET.exists():
            BUS_SOCKET.parent.mkdir(parents=True, exist_ok=True)
            bus.start()
            wait_until("a D-Bus system bus", 10, BUS_SOCKET.exists,
                       f"log: {self.cluster.log_dir / 'dbus.stderr'}")
        nfsd = self.ganesha_nfsd()
        nfsd.start()

        def exporting() -> bool:
            nfsd.expect_running()
            return succeeds(["dbus-send", "--print-reply", "--system", "--dest=org.ganesha.nfsd",
                             "/org/ganesha/nfsd/ExportMgr", "org.ganesha.nfsd.exportmgr.ShowExports"],
                            timeout=5)
        wait_until("NFS-Ganesha on D-Bus", 20, exporting, f"log: {self.cluster.log_dir / 'ganesha.log'}")

    def _link_bindings(self) -> None:
        """Debian's rados/cephfs/ceph_argparse (built for CPython 3.11) for this Python."""
        self.pylib.mkdir(exist_ok=True)
        for pattern in BINDINGS:
            for found in DIST_PACKAGES.glob(pattern):
                link = self.pylib / found.name
                if not link.is_symlink():
                    link.symlink_to(found)
        _pth_path().write_text(f"{self.pylib}\n")
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
        for pid in self.network.pids():
            found.append((pid, start_time(pid)))
        return found + [p for p in tagged(self.dir) if p not in found]

    def _lab_mounts(self) -> list[str]:
        prefix = f"{self.dir}/"
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
        return [m for m in mounts if m.startswith(prefix)]

    def down(self) -> None:
        t0 = time.monotonic()
        bus_was_ours = self.dbus().tracked() is not None
        survivors = kill_and_wait(self._tracked(), timeout=30)
        if survivors:
            raise LabError(f"lab down: processes {survivors} did not exit within 30 s; nothing "
                           "was removed (run `certkit lab down` again)")
        for mountpoint in self._lab_mounts():
            subprocess.run(["umount", "-l", mountpoint], capture_output=True)
        if bus_was_ours:
            BUS_SOCKET.unlink(missing_ok=True)
        self.network.down()
        _pth_path().unlink(missing_ok=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.forget()
        left = [*self.network.leftovers(), *self._lab_mounts()]
        if self.dir.exists():
            left.append(str(self.dir))
        if left:
            raise LabError(f"lab down: still present after teardown: {', '.join(left)}")
        say(f"down: every process exited, nothing left ({time.monotonic() - t0:.1f} s)")

    # -- status / env ----------------------------------------------------------------------------
    def status(self) -> bool:
        if not self.cluster.conf.exists():
            print("cephfs lab: down")
            return False
        health = self.cluster.health()
        daemons = [*self.cluster.daemons(), self.sshd(), self.ganesha_nfsd()]
        stopped = [d.name for d in daemons if d.pid() is None]
        print(f"cephfs lab: {health}; client host {self.network.netns} {self.network.client_ip}; "
              f"{'all daemons running' if not stopped else 'stopped: ' + ', '.join(stopped)}; "
              f"dir {self.dir}")
        return health == "HEALTH_OK" and not stopped

    def env(self) -> dict[str, str]:
        return {
            "CERTKIT_CEPH_CONF": str(self.cluster.conf),
            "CERTKIT_CEPH_AUTH_ID": "manila",
            "CERTKIT_CEPH_KEYRING": str(self.cluster.manila_keyring),
            "CERTKIT_CEPH_CLIENT_CONF": str(self.dir / "client" / "ceph.conf"),
            "CERTKIT_CLIENT_HOST": self.network.client_ip,
            "CERTKIT_CLIENT_KEY": str(self.ssh / "client_ed25519"),
            "CERTKIT_CLIENT_KNOWN_HOSTS": str(self.ssh / "known_hosts"),
            "CERTKIT_LAB_PYLIB": str(self.pylib),
        }


def _pth_path() -> Path:
    return Path(sysconfig.get_paths()["purelib"]) / PTH_NAME

