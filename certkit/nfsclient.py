"""NFS from the client host without a kernel NFS client: Debian's libnfs-utils (`nfs-ls`,
`nfs-cat`; userspace NFSv4 over TCP) and, for overwrite and remove, which the utilities lack,
certkit/nfs_helper.py calling the same libnfs; one source address per identity.

NFS access rules name client addresses, and an NFS server judges each request by the address it
came from. So every identity gets its own address on the client host (`ip addr`), and its own
uid whose policy-routing rule (`ip rule uidrange`) sends that uid's packets to the server from
that address; each libnfs command runs as the identity's uid (`setpriv`) and speaks AUTH_SYS as
root (`uid=0&gid=0` in the URL), as a kernel client's root user would. The server, not certkit,
decides what each identity may do. What this emulates of a kernel mount and what it does not:
docs/labs/nfs-client.md.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path

from certkit.clienthost import ClientHost, ClientHostError, CommandResult

HELPER = Path(__file__).with_name("nfs_helper.py")
"""Run on the client host for what libnfs-utils cannot do (overwrite, remove)."""
UID_BASE = 4_100_000
"""Identity uids (and their routing tables) are UID_BASE plus the address's low 16 bits."""
RULE_PRIORITY = 1000
"""Before the main table (32766)."""
TIMEOUT = 30
"""Seconds one libnfs command may take (a refused export answers at once)."""
PROBE_PREFIX = ".certkit-probe"
"""Probe files written (and removed) to test write access."""
_SUMMARY = re.compile(r"^\s*(-?\d+) of\s+(\d+) bytes free\.$")


def source_address(access_to: str) -> str:
    """The address an identity sends from: the rule's address, or for a CIDR rule its first
    host address."""
    network = ipaddress.ip_network(access_to, strict=False)
    if network.num_addresses == 1:
        return str(network.network_address)
    return str(next(network.hosts()))


def split_location(location: str) -> tuple[str, str]:
    """`server:/path` -> (server, /path)."""
    server, sep, path = location.partition(":/")
    if not sep or not server:
        raise ValueError(f"not an NFS export location (server:/path): {location!r}")
    return server.strip("[]"), "/" + path


@dataclass(frozen=True)
class NfsExport:
    """One export as one identity sees it."""

    server: str
    path: str
    identity: str
    uid: int

    def url(self, name: str = "") -> str:
        """The libnfs URL of the export (or of `name` in its root), NFSv4, AUTH_SYS root."""
        host = f"[{self.server}]" if ":" in self.server else self.server
        tail = f"/{name}" if name else ""
        return f"nfs://{host}{self.path.rstrip('/')}{tail}?version=4&uid=0&gid=0"

    def as_identity(self, command: str, *args: str) -> str:
        """`command args` run as the identity's uid (so from its address), time-limited."""
        quoted = " ".join(shlex.quote(a) for a in args)
        return (f"setpriv --reuid={self.uid} --regid={self.uid} --clear-groups "
                f"timeout {TIMEOUT} {command} {quoted}")


@dataclass(frozen=True)
class Listing:
    """An export's root directory and its file system size, as `nfs-ls -s` reports them."""

    sizes: dict[str, int]
    total_bytes: int


def parse_listing(text: str) -> Listing | None:
    """nfs-ls -s output (`mode nlink uid gid size name` lines, then `F of T bytes free.`);
    None when the summary is missing (the listing failed)."""
    sizes: dict[str, int] = {}
    total = None
    for line in text.splitlines():
        summary = _SUMMARY.match(line)
        if summary:
            total = int(summary.group(2))
            continue
        fields = line.split(None, 5)
        if len(fields) == 6 and fields[4].isdigit():
            sizes[fields[5]] = int(fields[4])
    return None if total is None else Listing(sizes, total)


class NfsClient:
    """libnfs-utils on one client host, with an address (and uid) per identity."""

    def __init__(self, client: ClientHost, workdir: str) -> None:
        self.client = client
        self.workdir = workdir
        self._identities: dict[tuple[str, str], int] = {}
        """(identity address, server) -> uid, set up on the client host."""
        self._helper_copied = False
        self._added: set[str] = set()
        """Identity addresses certkit added (an address the host already had stays)."""
        self.last_error = ""
        """Why the latest listing failed (exit status and libnfs's words), for the message."""

    def export(self, location: str, access_to: str) -> NfsExport:
        """The export at `location` as `access_to`'s identity (its address set up once)."""
        server, path = split_location(location)
        address = source_address(access_to)
        key = (address, server)
        if key not in self._identities:
            self._identities[key] = self._set_up(address, server)
        return NfsExport(server, path, address, self._identities[key])

    def _set_up(self, address: str, server: str) -> int:
        uid = UID_BASE + (int(ipaddress.ip_address(address)) & 0xFFFF)
        # The route the client host takes to the server, copied into the identity's own table
        # with the identity's address as source; the address sits on the same interface.
        script = (
            f"set -e; route=$(ip -o route get {shlex.quote(server)}); "
            "dev=$(echo \"$route\" | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p'); "
            "via=$(echo \"$route\" | sed -n 's/.* via \\([^ ]*\\).*/via \\1/p'); "
            f"if [ -z \"$(ip -o addr show to {address})\" ]; then "
            f"ip addr add {address}/32 dev \"$dev\"; echo added; fi; "
            f"ip rule del uidrange {uid}-{uid} 2>/dev/null || true; "
            f"ip rule add uidrange {uid}-{uid} lookup {uid} priority {RULE_PRIORITY}; "
            f"ip route replace {server} $via dev \"$dev\" src {address} table {uid}")
        result = self.client.run(script, timeout=30)
        if not result.ok:
            raise ClientHostError(f"{self.client.where}: cannot give NFS identity {address} its own "
                                  f"source address: {(result.stderr or result.stdout).strip()[-200:]}")
        if "added" in result.stdout.split():
            self._added.add(address)
        return uid

    # -- operations (each one libnfs session: connect, PUTROOTFH + LOOKUP the path, op) ---------
    def opens(self, export: NfsExport) -> CommandResult:
        """Whether the identity can open the export's root (`nfs-ls`: mount + readdir)."""
        return self.client.run(export.as_identity("nfs-ls", export.url()), timeout=TIMEOUT + 15)

    def listing(self, export: NfsExport) -> Listing | None:
        """The export root's files and size; None when the identity cannot list it."""
        result = self.client.run(export.as_identity("nfs-ls", "-s", export.url()), timeout=TIMEOUT + 15)
        found = parse_listing(result.stdout) if result.ok else None
        self.last_error = "" if found else (
            f"nfs-ls exit {result.status}" + (" (timed out)" if result.status == 124 else "")
            + f": {(result.stderr or result.stdout).strip()[-200:]}")
        return found

    def cat(self, export: NfsExport, name: str) -> str | None:
        """A file's text; None when it cannot be read."""
        result = self.client.run(export.as_identity("nfs-cat", export.url(name)), timeout=TIMEOUT + 15)
        return result.stdout if result.ok else None

    def heads(self, export: NfsExport, names: list[str], limit: int = 4096) -> list[str | None]:
        """The first `limit` bytes of each file, in one round trip (None: unreadable)."""
        temp = self._temp()
        parts = [f"if {export.as_identity('nfs-cat', export.url(n))} > {temp}; then "
                 f"head -c {limit} {temp}; else printf '\\1'; fi; printf '\\0'" for n in names]
        result = self.client.run(self._with(temp, "; ".join(parts) + "; true"),
                                 timeout=TIMEOUT * len(names) + 15)
        chunks = result.stdout.split("\0")
        return [None if c == "\1" else c for c in (chunks + [""] * len(names))[:len(names)]]

    def put(self, export: NfsExport, name: str, data: str) -> CommandResult:
        """Write `data` as `name` (created, or truncated first)."""
        return self.client.run(f"printf %s {shlex.quote(data)} | "
                               + self._helper(export, "put", name), timeout=TIMEOUT + 15)

    def remove(self, export: NfsExport, name: str) -> CommandResult:
        """Remove `name`."""
        return self.client.run(self._helper(export, "rm", name), timeout=TIMEOUT + 15)

    def fill(self, export: NfsExport, name: str, mebibytes: int) -> CommandResult:
        """Write `mebibytes` MiB of zeros as `name`."""
        command = self._helper(export, "put", name).replace(f"timeout {TIMEOUT} ", "timeout 590 ")
        return self.client.run(f"head -c {int(mebibytes)}M /dev/zero | {command}", timeout=600)

    def _helper(self, export: NfsExport, op: str, name: str) -> str:
        """certkit/nfs_helper.py on the client host (copied once per run) as the identity."""
        path = f"{self.workdir}/nfs_helper.py"
        if not self._helper_copied:
            self.client.run(f"mkdir -p -m 755 {shlex.quote(self.workdir)}", check=True)
            self.client.write_file(path, HELPER.read_text(), 0o644)
            self._helper_copied = True
        return export.as_identity("python3", path, op, export.url(name))

    def _temp(self) -> str:
        return f"{self.workdir}/t{secrets.token_hex(6)}"

    def _with(self, temp: str, body: str) -> str:
        """`body` with the workdir made (identity uids read the temporary file `temp`), and
        `temp` removed afterwards; the exit status is the body's."""
        work = shlex.quote(self.workdir)
        return (f"mkdir -p -m 755 {work} && : > {temp} && chmod 644 {temp} && "
                f"{{ {body}; }}; rc=$?; rm -f {temp}; exit $rc")

    def close(self) -> None:
        """Remove every identity's address, rule and table from the client host."""
        for uid in sorted(set(self._identities.values())):
            self.client.run(f"ip rule del uidrange {uid}-{uid} 2>/dev/null; "
                            f"ip route flush table {uid} 2>/dev/null; true")
        for address in sorted(self._added):
            self.client.run(f"dev=$(ip -o addr show to {address}/32 | awk '$4 == \"{address}/32\" "
                            f"{{print $2}}' | head -1); [ -z \"$dev\" ] || ip addr del {address}/32 dev \"$dev\"")
        self._identities.clear()
        self._added.clear()
        self.client.run(f"rm -rf {shlex.quote(self.workdir)}")
        self._helper_copied = False
