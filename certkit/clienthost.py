"""A client host reached over SSH (paramiko): host key checked against a known_hosts file,
key-based authentication only. The data-path suite runs mount helpers and I/O there."""

from __future__ import annotations

import logging
import shlex
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from certkit.errors import CertkitError
from certkit.text import one_line

log = logging.getLogger("certkit.clienthost")


class ClientHostError(CertkitError):
    """The client host is unreachable, not who it claims to be, or a command failed."""


@dataclass(frozen=True)
class CommandResult:
    """What a remote command did."""

    command: str
    status: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """Exit status 0."""
        return self.status == 0


class ClientHost:
    """One SSH connection to a client host; use as a context manager."""

    def __init__(self, name: str, address: str, user: str, private_key: str,
                 known_hosts: str | None = None, port: int = 22, connect_timeout: float = 15.0,
                 access_to: str | None = None) -> None:
        self.name = name
        self.address = address
        self.port = port
        self.user = user
        self.private_key = private_key
        self.known_hosts = known_hosts
        self.connect_timeout = connect_timeout
        self.access_to = access_to
        self._client: Any = None

    @classmethod
    def from_profile(cls, entry: Mapping[str, Any]) -> "ClientHost":
        """From a profile's `client_hosts` entry."""
        return cls(name=entry.get("name") or entry["address"], address=entry["address"],
                   user=entry["user"], private_key=entry["private_key"],
                   known_hosts=entry.get("known_hosts"), port=int(entry.get("port", 22)),
                   access_to=entry.get("access_to"))

    @property
    def where(self) -> str:
        """`name (user@address:port)` for messages."""
        return f"client host {self.name} ({self.user}@{self.address}:{self.port})"

    def connect(self) -> "ClientHost":
        """Open the connection; the host key must be in known_hosts (no trust on first use)."""
        import paramiko

        if not Path(self.private_key).is_file():
            raise ClientHostError(f"{self.where}: private_key: no such file {self.private_key}")
        client = paramiko.SSHClient()
        if self.known_hosts:
            if not Path(self.known_hosts).is_file():
                raise ClientHostError(f"{self.where}: known_hosts: no such file {self.known_hosts}")
            client.load_host_keys(self.known_hosts)
        else:
            client.load_system_host_keys()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(self.address, port=self.port, username=self.user,
                           key_filename=self.private_key, look_for_keys=False, allow_agent=False,
                           timeout=self.connect_timeout, banner_timeout=self.connect_timeout,
                           auth_timeout=self.connect_timeout)
        except paramiko.BadHostKeyException:
            raise ClientHostError(f"{self.where}: the host key does not match known_hosts "
                                  "(refusing to connect)") from None
        except paramiko.AuthenticationException:
            raise ClientHostError(f"{self.where}: the key was refused") from None
        except paramiko.SSHException as exc:
            reason = one_line(exc)
            if "not found in known_hosts" in reason:
                reason = "its host key is not in known_hosts (refusing to connect)"
            raise ClientHostError(f"{self.where}: {reason}") from None
        except (OSError, socket.timeout) as exc:
            raise ClientHostError(f"{self.where}: cannot connect: "
                                  f"{getattr(exc, 'strerror', None) or exc}") from None
        self._client = client
        return self

    def close(self) -> None:
        """Close the connection."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> "ClientHost":
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, command: str, timeout: float = 120.0, check: bool = False) -> CommandResult:
        """Run a shell command; with check=True a non-zero exit raises a one-line error."""
        import paramiko

        self._ensure_session()
        try:
            _, stdout, stderr = self._client.exec_command(command, timeout=timeout)
            out = stdout.read().decode(errors="replace")
            err = stderr.read().decode(errors="replace")
            status = stdout.channel.recv_exit_status()
        except (socket.timeout, TimeoutError):
            raise ClientHostError(f"{self.where}: `{one_line(command, 80)}` did not finish within "
                                  f"{timeout:g} s") from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            self.close()  # the next command connects again
            raise ClientHostError(f"{self.where}: `{one_line(command, 80)}`: the connection "
                                  f"failed: {one_line(exc, 120)}") from None
        result = CommandResult(command, status, out, err)
        if check and not result.ok:
            last = (err.strip() or out.strip()).splitlines()[-1:] or ["(no output)"]
            raise ClientHostError(f"{self.where}: `{one_line(command, 80)}` exited {status}: {one_line(last[0], 200)}")
        return result

    def _ensure_session(self) -> None:
        """Connected, with a live transport: a connection the client host (or a network
        blip) closed since the last command is opened again, host key checked as before."""
        transport = self._client.get_transport() if self._client is not None else None
        if transport is None or not transport.is_active():
            if self._client is not None:
                log.warning("%s: the connection was closed; connecting again", self.where)
            self.close()
            self.connect()

    def write_file(self, path: str, content: str, mode: int = 0o600) -> None:
        """Write a small file (e.g. a keyring) on the client host."""
        command = (f"umask 077 && mkdir -p {shlex.quote(str(Path(path).parent))} && "
                   f"cat > {shlex.quote(path)} && chmod {mode:o} {shlex.quote(path)}")
        self._ensure_session()
        stdin, stdout, stderr = self._client.exec_command(command, timeout=30)
        stdin.write(content)
        stdin.channel.shutdown_write()
        if stdout.channel.recv_exit_status() != 0:
            raise ClientHostError(f"{self.where}: cannot write {path}: "
                                  f"{one_line(stderr.read().decode(errors='replace'), 200)}")

