"""The static build nodes: this machine seen through a network namespace of the lab's own
(`certkit-zuul-node`), reached over SSH as root with a key only the lab's executor holds.

Two nodes, one sshd each on its own port (22 and 2222) of the namespace's address: each sshd
runs in a private mount namespace whose /root is a home of its own (`node-home`,
`node-home-2`), so builds on the two never share src/, venvs or ~/.ansible and never write the
machine's /root; pip's cache is bound in from the machine's so `make venv` on a node does not
download again. A pool of two, as an operator runs: Zuul 14.3's launcher can strand a static
node in `rebuilding` for good when the build it served lost its executor
(docs/findings/zuul-static-node-stranded-rebuilding.md), and with one node the retried build
then waited forever. Everything dies with sshd: `down` kills both and deletes the namespace and
the veth pair."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

from certkit.lab.commands import run
from certkit.lab.network import ClientNetwork
from certkit.lab.processes import Daemon, wait_until

NETNS = "certkit-zuul-node"
PIP_CACHE = Path("/root/.cache/pip")
PORTS = (22, 2222)
"""One static node per port: the sshd on PORTS[n] serves home `node-home` (n = 0) or
`node-home-<n+1>`."""


def network() -> ClientNetwork:
    env = os.environ.get
    return ClientNetwork(env("CERTKIT_ZUUL_NODE_NETNS", NETNS), env("CERTKIT_ZUUL_HOST_IF", "ckz-host"),
                         env("CERTKIT_ZUUL_NODE_IF", "ckz-node"),
                         env("CERTKIT_ZUUL_HOST_IP", "10.252.0.1"),
                         env("CERTKIT_ZUUL_NODE_IP", "10.252.0.2"),
                         int(env("CERTKIT_ZUUL_NODE_PREFIX", "24")))


class StaticNode:
    """The sshds in the node namespace (one a node), their keys under <lab>/ssh."""

    def __init__(self, lab_dir: Path, run_dir: Path, log_dir: Path) -> None:
        self.net = network()
        self.ssh = lab_dir / "ssh"
        self.homes = [lab_dir / ("node-home" if n == 0 else f"node-home-{n + 1}") for n in range(len(PORTS))]
        self.run_dir = run_dir
        self.log_dir = log_dir

    @property
    def ip(self) -> str:
        return self.net.client_ip

    @property
    def executor_key(self) -> Path:
        """The private key Zuul's executor logs in with."""
        return self.ssh / "executor_ed25519"

    @property
    def host_key_line(self) -> str:
        """The node's public host key ("ssh-ed25519 AAAA..."), as Zuul's static node takes it."""
        return " ".join((self.ssh / "node_host_ed25519.pub").read_text().split()[:2])

    def daemons(self) -> list[Daemon]:
        """Each node's sshd (`node-sshd`, `node-sshd-2`), in PORTS order."""
        # unshare execs (no fork), so the pidfile's pid is sshd's own.
        script = ('set -e; mkdir -p "$1/.cache/pip"; '
                  'if [ -d "$2" ]; then mount --bind "$2" "$1/.cache/pip"; fi; '
                  'mount --rbind "$1" /root; shift 2; exec "$@"')
        made = []
        for n, (port, home) in enumerate(zip(PORTS, self.homes)):
            name = "node-sshd" if n == 0 else f"node-sshd-{n + 1}"
            made.append(Daemon(name, [
                "ip", "netns", "exec", self.net.netns, "unshare", "--mount", "--propagation",
                "private", "--", "sh", "-c", script, name, str(home), str(PIP_CACHE),
                "/usr/sbin/sshd", "-D", "-p", str(port), "-f", str(self.ssh / "sshd_config"),
                "-E", str(self.log_dir / f"{name}.log")], self.run_dir, self.log_dir))
        return made

    def up(self) -> None:
        self.net.up()
        self.ssh.mkdir(mode=0o700, parents=True, exist_ok=True)
        for home in self.homes:
            home.mkdir(mode=0o700, exist_ok=True)
        Path("/run/sshd").mkdir(exist_ok=True)
        for key, kind in (("node_host_ed25519", "ed25519"), ("node_host_rsa", "rsa"),
                          ("executor_ed25519", "ed25519")):
            if not (self.ssh / key).exists():
                run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(self.ssh / key),
                     "-C", f"certkit-zuul-lab-{key}"], f"generate the {key} key")
        shutil.copyfile(self.ssh / "executor_ed25519.pub", self.ssh / "authorized_keys")
        (self.ssh / "sshd_config").write_text("\n".join([
            f"# The static node's sshd (network namespace {self.net.netns}), keys only.",
            f"# Each node's sshd is given its port with -p ({', '.join(map(str, PORTS))}).",
            f"ListenAddress {self.ip}", f"HostKey {self.ssh / 'node_host_ed25519'}",
            f"HostKey {self.ssh / 'node_host_rsa'}",
            "PidFile none", f"AuthorizedKeysFile {self.ssh / 'authorized_keys'}",
            "PermitRootLogin prohibit-password", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no", "PrintMotd no",
            "MaxSessions 50", "MaxStartups 50:30:100", ""]))
        sshds = self.daemons()
        for sshd in sshds:
            sshd.start()
        for sshd, port in zip(sshds, PORTS):
            def listening(sshd: Daemon = sshd, port: int = port) -> bool:
                sshd.expect_running()
                with socket.create_connection((self.ip, port), timeout=1):
                    return True
            wait_until(f"the static node's sshd on port {port} in {self.net.netns}", 20, listening,
                       f"log: {self.log_dir / (sshd.name + '.log')}")
