"""NFS-Ganesha for a lab: ganesha.nfsd in the foreground with the lab's own configuration (an
FSAL per lab kind, from templates/<kind>/ganesha.conf), and a D-Bus system bus when the machine
has none (Manila's Ganesha helper adds and removes exports over D-Bus).
"""

from __future__ import annotations

from pathlib import Path

from certkit.lab import templates
from certkit.lab.commands import succeeds
from certkit.lab.processes import Daemon, wait_until

BUS_SOCKET = Path("/run/dbus/system_bus_socket")


class Ganesha:
    """ganesha.nfsd with its files under `directory` (export.d/, recovery/, ganesha.conf)."""

    def __init__(self, directory: Path, run_dir: Path, log_dir: Path, env: dict[str, str] | None = None,
                 tag: str = "") -> None:
        self.dir = directory
        self.run_dir = run_dir
        self.log_dir = log_dir
        self.env = env or {}
        self.tag = tag  # the lab's (certkit.lab.processes.tag_env)

    def nfsd(self) -> Daemon:
        """ganesha.nfsd in the foreground."""
        return Daemon("ganesha", ["ganesha.nfsd", "-F", "-f", str(self.dir / "ganesha.conf"),
                                  "-L", str(self.log_dir / "ganesha.log"),
                                  "-p", str(self.run_dir / "ganesha.pid"), "-N", "NIV_EVENT"],
                      self.run_dir, self.log_dir, self.env, tag=self.tag)

    def dbus(self) -> Daemon:
        """A D-Bus system bus, started only when the machine has none."""
        return Daemon("dbus", ["dbus-daemon", "--system", "--nofork", "--nopidfile"],
                      self.run_dir, self.log_dir, tag=self.tag)

    def start(self, kind: str, **values: object) -> None:
        """Write templates/<kind>/ganesha.conf (with `ganesha` = this directory), start the
        bus when needed and ganesha.nfsd, and wait until it answers on D-Bus."""
        (self.dir / "export.d").mkdir(parents=True, exist_ok=True)
        (self.dir / "recovery").mkdir(exist_ok=True)
        index = self.dir / "export.d" / "INDEX.conf"
        if not index.exists():
            index.write_text("")
        templates.write(self.dir / "ganesha.conf", kind, "ganesha.conf", ganesha=self.dir, **values)
        bus = self.dbus()
        if bus.pid() is None and not BUS_SOCKET.exists():
            BUS_SOCKET.parent.mkdir(parents=True, exist_ok=True)
            bus.start()
            wait_until("a D-Bus system bus", 10, BUS_SOCKET.exists, f"log: {self.log_dir / 'dbus.stderr'}")
        nfsd = self.nfsd()
        nfsd.start()

        def exporting() -> bool:
            nfsd.expect_running()
            return succeeds(["dbus-send", "--print-reply", "--system", "--dest=org.ganesha.nfsd",
                             "/org/ganesha/nfsd/ExportMgr", "org.ganesha.nfsd.exportmgr.ShowExports"],
                            timeout=5)
        wait_until("NFS-Ganesha on D-Bus", 20, exporting, f"log: {self.log_dir / 'ganesha.log'}")

    def bus_is_ours(self) -> bool:
        """Whether the lab started the bus (then `forget_bus` removes its socket after the kill)."""
        return self.dbus().tracked() is not None

    @staticmethod
    def forget_bus() -> None:
        """Remove the socket of a bus the lab started (once its dbus-daemon has exited)."""
        BUS_SOCKET.unlink(missing_ok=True)
