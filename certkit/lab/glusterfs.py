"""The GlusterFS lab: a single-node Gluster (glusterd, a quota-enabled volume for Manila's
directory-mapped layout, a pool of one-brick volumes for the volume-mapped layout), NFS-Ganesha
with FSAL_GLUSTER (Manila's Ganesha helper manages its exports), and the client host (network
namespace + sshd) every lab shares; it holds the client host while up (certkit/lab/clienthost.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from certkit.lab import clienthost
from certkit.lab.base import root_and_debian
from certkit.lab.commands import say
from certkit.lab.ganesha import Ganesha
from certkit.lab.gluster import GlusterCluster
from certkit.lab.processes import Daemon, LabError, is_alive, start_time, tagged

PACKAGES = ("glusterfs-server", "glusterfs-client", "nfs-ganesha", "nfs-ganesha-gluster",
            "openssh-server", "openssh-client", "iproute2", "procps", "dbus", "sqlite3", "libnfs-utils")
#: The volume of the directory-mapped layout (shares are its directories, sized by quota).
SHARED_VOLUME = "manila"
#: The volume-mapped layout's pool (glusterfs_volume_pattern `manila-vol-#{size}G-\d+$`).
POOL_VOLUMES = tuple(f"manila-vol-1G-{n}" for n in range(1, 5))


class GlusterFSLab(clienthost.ClientHostLab):
    """`certkit lab up|down|status|env glusterfs`."""

    name = "glusterfs"

    def __init__(self, directory: Path | None = None) -> None:
        super().__init__(directory)
        self.network = clienthost.default_network()
        self.timeout = float(os.environ.get("CERTKIT_LAB_TIMEOUT", "90"))
        self.cluster = GlusterCluster(self.dir, self.network.host_ip, self.timeout)
        self.client = clienthost.SshClientHost(self.network, self.dir, self.cluster.run_dir,
                                               self.cluster.log_dir)
        self.ganesha = Ganesha(self.dir / "ganesha", self.cluster.run_dir, self.cluster.log_dir,
                               tag=str(self.dir))
        self.mounts = self.dir / "mnt"
        self.before = self.dir / "machine-files.json"

    def daemons(self) -> list[Daemon]:
        """The daemons the lab starts itself (glusterd spawns the bricks)."""
        return [self.cluster.glusterd(), self.client.sshd(), self.ganesha.nfsd()]

    # -- up ------------------------------------------------------------------------------------
    def can_run(self) -> str | None:
        reason = root_and_debian("GlusterFS", "network namespaces, FUSE, Debian packages",
                                 "glusterfs-server", "/usr/sbin/glusterd")
        if reason:
            return reason
        if not Path("/dev/fuse").exists():
            return "the GlusterFS lab needs FUSE (/dev/fuse is missing)"
        return None

    def up(self) -> None:
        t0, t1 = self.begin_up(PACKAGES)
        if not self.before.exists():  # before any gluster command (the CLI logs there too)
            self.before.write_text(json.dumps(self.cluster.machine_files()))
        if self.cluster.glusterd().pid() is None:
            self._check_no_foreign_glusterd()
        self.network.up()
        self.cluster.start()
        self.cluster.ensure_volume(SHARED_VOLUME, quota=True)
        for volume in POOL_VOLUMES:
            self.cluster.ensure_volume(volume)
        self.mounts.mkdir(exist_ok=True)
        self.client.start()
        self.ganesha.start("glusterfs", host_ip=self.network.host_ip)
        say(f"up: glusterd, volumes {SHARED_VOLUME} (quota) and {len(POOL_VOLUMES)} pool volumes, "
            f"NFS-Ganesha (FSAL_GLUSTER) on {self.network.host_ip}, client host "
            f"{self.network.netns} at {self.network.client_ip} (ssh)")
        say(f"figures: packages {t1 - t0:.1f} s, gluster+client {time.monotonic() - t1:.1f} s, "
            f"total {time.monotonic() - t0:.1f} s")

    @staticmethod
    def _check_no_foreign_glusterd() -> None:
        """Manila's driver calls the `gluster` CLI, which talks to whichever glusterd owns
        /var/run/glusterd.socket: refuse to start beside another one."""
        try:
            answered = subprocess.run(["gluster", "--mode=script", "pool", "list"],
                                      capture_output=True, timeout=20).returncode == 0
        except subprocess.TimeoutExpired:
            answered = True  # something holds the socket but does not answer: as bad
        if answered:
            raise LabError("another glusterd answers on /var/run/glusterd.socket (the machine's "
                           "own?): stop it first; the lab's Manila driver would talk to it")

    # -- down ----------------------------------------------------------------------------------
    def _gluster_mounts(self) -> list[str]:
        """Mounts of the lab's volumes (Manila's, quota's auxiliary ones) and under the lab."""
        found, mine = [], self.holds_client_host()
        for line in Path("/proc/mounts").read_text().splitlines():
            source, target = line.split()[:2]
            if target.startswith(f"{self.dir}/") or (mine and source.startswith(f"{self.network.host_ip}:")):
                found.append(target)
        return found

    def _lab_processes(self) -> list[tuple[int, int | None]]:
        """Every process the lab started or glusterd spawned, the client namespace's, and any
        Gluster client of the lab's volumes (a FUSE mount's glusterfs)."""
        found = [record for d in [*self.daemons(), self.ganesha.dbus()] if (record := d.tracked())]
        found += self.cluster.daemon_pids()
        markers: tuple[str, ...] = (str(self.dir),)
        if self.holds_client_host():  # else the address and the namespace are another lab's
            found += [(pid, start_time(pid)) for pid in self.network.pids()]
            markers += (f"-s {self.network.host_ip} ", f"--volfile-server={self.network.host_ip}")
        found += tagged(self.dir)  # one started by an `up` killed before its pidfile was written
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                if any(m in argv for m in markers) and int(entry.name) != os.getpid():
                    found.append((int(entry.name), start_time(int(entry.name))))
        return [(pid, started) for pid, started in dict(found).items() if is_alive(pid, started)]

    def down(self) -> None:
        t0 = time.monotonic()
        bus_was_ours = self.ganesha.bus_is_ours()
        for mountpoint in self._gluster_mounts():
            subprocess.run(["umount", "-l", mountpoint], capture_output=True)
        self.kill_all(self._lab_processes())
        for mountpoint in self._gluster_mounts():
            subprocess.run(["umount", "-l", mountpoint], capture_output=True)
        if bus_was_ours:
            self.ganesha.forget_bus()
        if self.holds_client_host():  # Gluster's machine-wide files are the running lab's otherwise
            self._remove_machine_files()
        self.finish_down(t0, self._gluster_mounts)

    def _remove_machine_files(self) -> None:
        """Remove what the lab's Gluster added in its compiled-in directories (sockets, logs,
        quota's scratch files), deepest first; what was there before `up` stays."""
        try:
            before = set(json.loads(self.before.read_text()))
        except (OSError, ValueError):
            return  # `up` never got that far: Gluster wrote nothing outside the lab
        for name in sorted(set(self.cluster.machine_files()) - before, key=len, reverse=True):
            path = Path(name)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    # -- status / env ----------------------------------------------------------------------------
    def status(self) -> bool:
        if not self.cluster.volfile.exists():
            print("glusterfs lab: down")
            return False
        stopped = [d.name for d in self.daemons() if d.pid() is None]
        bricks = "glusterd unreachable"
        healthy = False
        if "glusterd" not in stopped:
            try:
                counts = [self.cluster.online_bricks(v) for v in (SHARED_VOLUME, *POOL_VOLUMES)]
                online, total = sum(c[0] for c in counts), sum(c[1] for c in counts)
                bricks = f"{online}/{total} bricks online"
                healthy = total > 0 and online == total
            except LabError as exc:
                bricks = str(exc)
        self.print_status(bricks, stopped)
        return healthy and not stopped

    def env(self) -> dict[str, str]:
        return {
            "CERTKIT_GLUSTER_HOST": self.network.host_ip,
            "CERTKIT_GLUSTER_TARGET": f"{self.network.host_ip}:/{SHARED_VOLUME}",
            "CERTKIT_GLUSTER_MOUNTS": str(self.mounts),
            "CERTKIT_GANESHA_DIR": str(self.ganesha.dir),
            **self.client.env(),
        }
