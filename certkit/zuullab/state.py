"""What `up` chose, kept until `down`: ports, the keystore password, the Gerrit it points at.

The file is 0600 (it holds the keystore password and key paths); ports are reserved all at once
(every socket bound before any is released), so no two services get the same one."""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

from certkit.errors import CertkitError
from certkit.files import atomic_write

PORTS = ("zookeeper", "web", "finger", "logs", "mirror")


@dataclass
class GerritTarget:
    """The Gerrit Zuul connects to over SSH (`certkit lab up zuul --gerrit ...`)."""

    host: str
    port: int
    user: str
    key_file: str
    canonical_hostname: str = "review.example.org"


@dataclass
class ZuulLabState:
    gerrit: GerritTarget
    ports: dict[str, int] = field(default_factory=dict)
    mirror_dir: str = ""
    """The node mirror's root (its simple/ index), a cache shared by labs (see mirror.py)."""
    keystore_password: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    job_dir: str = field(default_factory=lambda: f"/var/lib/ckz-{secrets.token_hex(3)}")
    """The executor's build directories, on a short path: Ansible's ssh ControlPath lives in each
    (`<job_dir>/<build uuid>/.ansible/cp/<hash>` plus ssh's temporary suffix must fit the
    108-byte limit of a unix socket path: as short as Zuul's default, /var/lib/zuul/builds)."""

    @classmethod
    def load(cls, path: Path) -> "ZuulLabState | None":
        try:
            data = json.loads(path.read_text())
            return cls(gerrit=GerritTarget(**data.pop("gerrit")), **data)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError, KeyError) as exc:
            raise CertkitError(f"{path}: unreadable zuul lab state ({exc}); run "
                               "`certkit lab down zuul`") from None

    def save(self, path: Path) -> None:
        """Write with mode 0600 (atomically)."""
        atomic_write(path, json.dumps(asdict(self), indent=2) + "\n")

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['web']}"

    @property
    def logs_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['logs']}"


@contextlib.contextmanager
def reserved_ports(names: tuple[str, ...] = PORTS) -> Iterator[dict[str, int]]:
    """Distinct free loopback ports, one per name, held (bound, not listening) until the block
    ends: write the configuration inside it, start the services after it."""
    socks = []
    try:
        for _ in names:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        yield {name: sock.getsockname()[1] for name, sock in zip(names, socks)}
    finally:
        for sock in socks:
            sock.close()
