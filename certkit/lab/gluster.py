"""A single-node GlusterFS trusted pool: glusterd in the foreground with its state under the lab
directory, listening on the lab's host address, and volumes on brick directories in the lab
(created with `force`: Gluster refuses bricks on the root filesystem otherwise).

glusterd spawns the brick (glusterfsd), quota and self-heal daemons itself, detached; their
pidfiles live under the lab's run directory (`run-directory`), so `daemon_pids` finds each of
them. A few paths are compiled into Gluster: the CLI socket /var/run/glusterd.socket, the brick
sockets under /var/run/gluster and the logs under /var/log/glusterfs; `machine_files` lists what
exists there so the lab's `down` removes only what the lab added. State is read as XML (`--xml`).
"""

from __future__ import annotations

from pathlib import Path

from xml.etree import ElementTree  # the local gluster CLI's output, trusted like its exit code

from certkit.lab import templates
from certkit.lab.commands import run
from certkit.lab.processes import Daemon, LabError, is_alive, start_time, wait_until

CLI_SOCKET = Path("/var/run/glusterd.socket")
MACHINE_DIRS = (Path("/var/run/gluster"), Path("/var/log/glusterfs"))


class GlusterCluster:
    """glusterd and the lab's volumes, with files in `lab`, bricks served on `host_ip`."""

    def __init__(self, lab: Path, host_ip: str, timeout: float = 60.0) -> None:
        self.lab = lab
        self.host_ip = host_ip
        self.timeout = timeout
        self.workdir = lab / "glusterd"
        self.run_dir = lab / "run"
        self.spawned_dir = lab / "run" / "gluster"
        self.log_dir = lab / "log"
        self.bricks = lab / "bricks"
        self.volfile = lab / "glusterd.vol"

    def glusterd(self) -> Daemon:
        """glusterd in the foreground (-N), logging into the lab."""
        return Daemon("glusterd", ["glusterd", "-N", "-f", str(self.volfile),
                                   "-l", str(self.log_dir / "glusterd.log")], self.run_dir, self.log_dir,
                      tag=str(self.lab))  # the bricks and quotad glusterd spawns carry it too

    def gluster(self, *args: str, timeout: float = 60.0) -> str:
        """A `gluster` CLI command in script mode; its output."""
        return run(["gluster", "--mode=script", *args], f"gluster {' '.join(args[:3])}", timeout)

    def xml(self, *args: str) -> ElementTree.Element:
        """A `gluster --xml` command, parsed; a LabError when opRet is not 0."""
        out = self.gluster("--xml", *args)
        try:
            root = ElementTree.fromstring(out)
        except ElementTree.ParseError:
            raise LabError(f"gluster {' '.join(args)} printed no XML: {out.strip()[:120]}") from None
        if root.findtext("opRet") != "0":
            raise LabError(f"gluster {' '.join(args)}: {root.findtext('opErrstr') or 'failed'}")
        return root

    # -- state -------------------------------------------------------------------------------
    def volumes(self) -> list[str]:
        """The volumes glusterd knows."""
        return [v.text or "" for v in self.xml("volume", "list").iter("volume")]

    def online_bricks(self, volume: str) -> tuple[int, int]:
        """(bricks online, bricks) of a started volume."""
        nodes = [n for n in self.xml("volume", "status", volume).iter("node")
                 if (n.findtext("path") or "").startswith(str(self.bricks))]
        return sum(n.findtext("status") == "1" for n in nodes), len(nodes)

    def daemon_pids(self) -> list[tuple[int, int | None]]:
        """(pid, start time) of every live daemon glusterd spawned (pidfiles in the lab)."""
        found = []
        for pidfile in self.spawned_dir.rglob("*.pid"):
            try:
                pid = int(pidfile.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if is_alive(pid):
                found.append((pid, start_time(pid)))
        return found

    @staticmethod
    def machine_files() -> list[str]:
        """What exists in Gluster's compiled-in directories and at the CLI socket."""
        files = [str(p) for d in MACHINE_DIRS if d.is_dir() for p in d.rglob("*")]
        return sorted([*files, *([str(CLI_SOCKET)] if CLI_SOCKET.exists() else [])])

    # -- bring-up ----------------------------------------------------------------------------
    def start(self) -> None:
        """glusterd (left alone when it runs), answering the CLI."""
        for sub in (self.workdir, self.spawned_dir, self.log_dir, self.bricks):
            sub.mkdir(parents=True, exist_ok=True)
        templates.write(self.volfile, "glusterfs", "glusterd.vol", workdir=self.workdir,
                        rundir=self.spawned_dir, host_ip=self.host_ip)
        # Debian's hooks (/var/lib/glusterd/hooks) are left out on purpose: on `volume start`
        # they would edit the machine's Samba and CTDB configuration.
        daemon = self.glusterd()
        daemon.start()

        def answering() -> bool:
            daemon.expect_running()
            return self.xml("pool", "list") is not None
        wait_until("glusterd", 30, answering, f"log: {self.log_dir / 'glusterd.log'}")

    def ensure_volume(self, name: str, quota: bool = False) -> None:
        """Create (one brick, `force`), start and optionally enable quota on `name`; wait until
        its brick is online. Each step is skipped when already done."""
        if name not in self.volumes():
            brick = self.bricks / name
            brick.mkdir(parents=True, exist_ok=True)
            self.gluster("volume", "create", name, f"{self.host_ip}:{brick}", "force")
        info = self.xml("volume", "info", name)
        if info.findtext(".//volume/statusStr") != "Started":
            self.gluster("volume", "start", name, "force")
        if quota and not any(o.findtext("name") == "features.quota" and o.findtext("value") == "on"
                             for o in info.iter("option")):
            self.gluster("volume", "quota", name, "enable")

        def brick_online() -> bool:
            online, total = self.online_bricks(name)
            if not total or online != total:
                raise LabError(f"{online} of {total} bricks of {name} online")
            return True
        wait_until(f"the brick of volume {name}", self.timeout, brick_online,
                   f"logs: {self.log_dir}, /var/log/glusterfs/bricks")
