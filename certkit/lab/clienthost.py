"""The client host every lab shares: a network namespace (certkit/lab/network.py) running its
own sshd, key authentication only, its host key pinned in a known_hosts file a profile names.

There is one client namespace per machine (CERTKIT_LAB_NETNS and CERTKIT_LAB_{HOST,CLIENT}_{IF,IP}
make another), so only one lab may hold it at a time: `claim` records the holder under /run/certkit/labs/ (under an fcntl lock, so two `up`s cannot both win) and refuses
a second lab with a one-line error naming the holder; `release` gives it back. Test processes that
want to *wait* for the client host instead take `lock()` from `lab up` to `lab down`.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

from certkit.lab import packages, templates
from certkit.lab.base import RECORDS, Lab
from certkit.lab.commands import run, say
from certkit.lab.network import ClientNetwork
from certkit.lab.processes import Daemon, LabError, kill_and_wait, wait_until

#: The machine-wide lock test processes take around a lab that uses the client host. The file
#: name predates the second lab and is kept: people and scripts flock it by hand.
LOCK = Path("/tmp/certkit-ceph-lab.lock")
DEFAULT_NETNS = "certkit-client"
#: The addresses `ip` access rules name (certkit.contract.resources.Resources.access_to, TEST-NET-2):
#: routed to the client host, which gives each identity its own source address
#: (certkit/nfsclient.py), so NFS servers on the host judge every identity by its own address.
IDENTITIES = "198.51.100.0/24"


@contextmanager
def lock() -> Iterator[None]:
    """Wait for, then hold, the client host (one lab at a time, across processes)."""
    with open(LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _claim_file(netns: str) -> Path:
    return RECORDS / f"client-host-{netns}.json"


@contextmanager
def _records_locked(netns: str) -> Iterator[Path]:
    RECORDS.mkdir(parents=True, exist_ok=True)
    with open(RECORDS / ".client-host.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield _claim_file(netns)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def holder(netns: str = DEFAULT_NETNS) -> dict | None:
    """{"lab", "dir"} of the lab holding the client host `netns`, or None (a holder whose
    directory is gone, left by a lab killed before its `down`, counts as none)."""
    try:
        held = json.loads(_claim_file(netns).read_text())
        return held if Path(held["dir"]).is_dir() else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def claim(lab: str, directory: Path, netns: str = DEFAULT_NETNS) -> None:
    """Take the client host `netns` for `lab`; a LabError when another lab holds it."""
    with _records_locked(netns) as path:
        held = holder(netns)
        if held and (held.get("lab"), held.get("dir")) != (lab, str(directory)):
            raise LabError(f"the client host is held by the {held.get('lab')} lab ({held.get('dir')}): "
                           f"run `certkit lab down {held.get('lab')}` first (labs share one client "
                           "namespace)")
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"lab": lab, "dir": str(directory), "pid": os.getpid()}))
        tmp.replace(path)


def release(lab: str, netns: str = DEFAULT_NETNS) -> None:
    """Give the client host `netns` back (only when `lab` holds it)."""
    with _records_locked(netns) as path:
        try:
            if json.loads(path.read_text()).get("lab") == lab:
                path.unlink()
        except (OSError, ValueError, AttributeError):
            path.unlink(missing_ok=True)


def default_network() -> ClientNetwork:
    """The client namespace and its veth pair (CERTKIT_LAB_* override the defaults)."""
    env = os.environ.get
    return ClientNetwork(env("CERTKIT_LAB_NETNS", DEFAULT_NETNS), env("CERTKIT_LAB_HOST_IF", "ckc-host"),
                         env("CERTKIT_LAB_CLIENT_IF", "ckc-client"), env("CERTKIT_LAB_HOST_IP", "10.251.0.1"),
                         env("CERTKIT_LAB_CLIENT_IP", "10.251.0.2"),
                         identities=env("CERTKIT_LAB_IDENTITIES", IDENTITIES))


class SshClientHost:
    """sshd inside the client namespace, its keys and known_hosts under `ssh`."""

    def __init__(self, network: ClientNetwork, lab: Path, run_dir: Path, log_dir: Path) -> None:
        self.network = network
        self.lab = lab
        self.ssh = lab / "ssh"
        self.run_dir = run_dir
        self.log_dir = log_dir

    def sshd(self) -> Daemon:
        """The client host's sshd, in the foreground inside the namespace."""
        return Daemon("sshd", ["ip", "netns", "exec", self.network.netns, "/usr/sbin/sshd", "-D",
                               "-f", str(self.ssh / "sshd_config"), "-E", str(self.log_dir / "sshd.log")],
                      self.run_dir, self.log_dir, tag=str(self.lab))

    def start(self) -> None:
        """Keys (made once), sshd_config, and sshd listening on the client address."""
        self.ssh.mkdir(mode=0o700, parents=True, exist_ok=True)
        Path("/run/sshd").mkdir(exist_ok=True)
        for key, comment in (("host_ed25519", "certkit-lab-host"), ("client_ed25519", "certkit-lab-client")):
            if not (self.ssh / key).exists():
                run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.ssh / key),
                     "-C", comment], f"generate the {key} key")
        shutil.copyfile(self.ssh / "client_ed25519.pub", self.ssh / "authorized_keys")
        host_key = (self.ssh / "host_ed25519.pub").read_text().split()[:2]
        (self.ssh / "known_hosts").write_text(f"{self.network.client_ip} {' '.join(host_key)}\n")
        templates.write(self.ssh / "sshd_config", "client", "sshd_config", mode=0o600,
                        client_ip=self.network.client_ip, ssh=self.ssh, run=self.run_dir,
                        netns=self.network.netns)
        sshd = self.sshd()
        sshd.start()

        def listening() -> bool:
            sshd.expect_running()
            with socket.create_connection((self.network.client_ip, 22), timeout=1):
                return True
        wait_until(f"sshd in {self.network.netns}", 15, listening, f"log: {self.log_dir / 'sshd.log'}")

    def env(self) -> dict[str, str]:
        """What a profile reads to reach the client host."""
        return {
            "CERTKIT_CLIENT_HOST": self.network.client_ip,
            "CERTKIT_CLIENT_KEY": str(self.ssh / "client_ed25519"),
            "CERTKIT_CLIENT_KNOWN_HOSTS": str(self.ssh / "known_hosts"),
        }


class ClientHostLab(Lab):
    """A lab kind that uses the client host: the start of `up` and the end of `down` every such
    lab shares (the claim, the lab directory and its record, packages; the namespace, the
    directory and the claim removed and checked gone)."""

    network: ClientNetwork

    @classmethod
    def instance(cls) -> str:
        """`<kind>` on the shared client namespace, `<kind>@<netns>` on another
        (CERTKIT_LAB_NETNS): a lab on a second namespace has a record and a default directory
        of its own, so its `up`, `env` and `down` never find (nor take down) the other's."""
        netns = os.environ.get("CERTKIT_LAB_NETNS", DEFAULT_NETNS)
        return cls.name if netns == DEFAULT_NETNS else f"{cls.name}@{netns}"

    def begin_up(self, needed: Sequence[str]) -> tuple[float, float]:
        """Check the lab can run, claim the client host, make the directory and its record,
        install what is missing; (when `up` began, when the packages were done)."""
        reason = self.can_run()
        if reason:
            raise LabError(reason)
        began = time.monotonic()
        claim(self.name, self.dir, self.network.netns)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.record()
        installed = packages.ensure(needed, self.dir / "apt.log")
        say(f"packages: {'installed ' + ' '.join(installed) if installed else 'all present'}")
        return began, time.monotonic()

    def holds_client_host(self) -> bool:
        """Whether the shared client host is this lab's to take down: claimed by it, or by no
        lab. While another lab (another directory) holds it, what is found by the client host's
        address or namespace is that lab's: this lab's `down` (of a lab that never came up, or
        one left half-way) must not kill its bricks, unmount its volumes or remove its namespace."""
        held = holder(self.network.netns)
        return held is None or held.get("dir") == str(self.dir)

    def kill_all(self, tracked: Sequence[tuple[int, int | None]]) -> None:
        """SIGKILL the lab's processes and wait; a LabError (nothing removed) when one survives."""
        survivors = kill_and_wait(tracked, timeout=30)
        if survivors:
            raise LabError(f"lab down: processes {survivors} did not exit within 30 s; nothing "
                           f"was removed (run `certkit lab down {self.name}` again)")

    def finish_down(self, began: float, mounts: Callable[[], list[str]]) -> None:
        """Remove the namespace, the directory, the record and the claim; raise naming what is
        still there (a namespace, a link, a mount from `mounts`, the directory)."""
        mine = self.holds_client_host()
        if mine:
            self.network.down()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.forget()
        if mine:
            release(self.name, self.network.netns)
        else:
            say(f"down: the client host {self.network.netns} is held by the {holder(self.network.netns)['lab']} "
                f"lab in {holder(self.network.netns)['dir']}: left to it")
        left = [*(self.network.leftovers() if mine else []), *mounts()]
        if self.dir.exists():
            left.append(str(self.dir))
        if left:
            raise LabError(f"lab down: still present after teardown: {', '.join(left)}")
        say(f"down: every process exited, nothing left ({time.monotonic() - began:.1f} s)")

    def print_status(self, state: str, stopped: Sequence[str]) -> None:
        """The one status line: the back end's state, the client host, the daemons, the dir."""
        print(f"{self.name} lab: {state}; client host {self.network.netns} {self.network.client_ip}; "
              f"{'all daemons running' if not stopped else 'stopped: ' + ', '.join(stopped)}; "
              f"dir {self.dir}")
