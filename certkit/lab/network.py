"""A client host's network: a network namespace joined to the host by a veth pair.

State is read with `ip -j` (JSON). The host end stays in the root namespace, so traffic from the
host to the client address never leaves by the default route.
"""

from __future__ import annotations

from dataclasses import dataclass

from certkit.lab.commands import run, run_json


@dataclass(frozen=True)
class ClientNetwork:
    """Namespace `netns` with `client_if` at `client_ip`; `host_if` at `host_ip` on the host."""

    netns: str
    host_if: str
    client_if: str
    host_ip: str
    client_ip: str
    prefix: int = 24
    identities: str | None = None
    """A network of client identities (NFS access rules name client addresses) routed from the
    host to the client end, so a server on the host answers each identity's own address."""

    def exists(self) -> bool:
        """Whether the namespace exists."""
        names = run_json(["ip", "-j", "netns", "list"], "list network namespaces") or []
        return any(entry.get("name") == self.netns for entry in names)

    def _link_exists(self) -> bool:
        links = run_json(["ip", "-j", "link", "show"], "list network links") or []
        return any(link.get("ifname") == self.host_if for link in links)

    @staticmethod
    def _has_address(addresses: list[dict], ip: str) -> bool:
        return any(info.get("local") == ip for entry in addresses for info in entry.get("addr_info", []))

    def up(self) -> None:
        """Create what is missing (idempotent)."""
        if not self.exists():
            run(["ip", "netns", "add", self.netns], "create the client namespace")
        if not self._link_exists():
            run(["ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.client_if,
                 "netns", self.netns], "create the veth pair")
        host = run_json(["ip", "-j", "addr", "show", "dev", self.host_if], "read the host address")
        if not self._has_address(host or [], self.host_ip):
            run(["ip", "addr", "add", f"{self.host_ip}/{self.prefix}", "dev", self.host_if],
                "address the host end")
        run(["ip", "link", "set", self.host_if, "up"], "bring the host end up")
        inside = ["ip", "-n", self.netns]
        client = run_json([*inside, "-j", "addr", "show", "dev", self.client_if], "read the client address")
        if not self._has_address(client or [], self.client_ip):
            run([*inside, "addr", "add", f"{self.client_ip}/{self.prefix}", "dev", self.client_if],
                "address the client end")
        run([*inside, "link", "set", self.client_if, "up"], "bring the client end up")
        run([*inside, "link", "set", "lo", "up"], "bring the client loopback up")
        if self.identities:  # goes with the veth pair at `down`
            run(["ip", "route", "replace", self.identities, "via", self.client_ip, "dev", self.host_if],
                "route the client identities' network to the client end")

    def pids(self) -> list[int]:
        """Processes running in the namespace."""
        if not self.exists():
            return []
        out = run(["ip", "netns", "pids", self.netns], "list the client's processes")
        return [int(p) for p in out.split()]

    def down(self) -> None:
        """Delete the veth pair and the namespace (idempotent)."""
        if self._link_exists():
            run(["ip", "link", "del", self.host_if], "delete the veth pair")
        if self.exists():
            run(["ip", "netns", "del", self.netns], "delete the client namespace")

    def leftovers(self) -> list[str]:
        """What still exists (empty after a clean `down`)."""
        left = []
        if self.exists():
            left.append(f"network namespace {self.netns}")
        if self._link_exists():
            left.append(f"link {self.host_if}")
        return left
