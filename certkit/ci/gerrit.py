"""Gerrit's SSH interface with paramiko: stream-events, query, review.

The host key is checked against known_hosts (never trust on first use); authentication is by
key only. Remote commands are one string that Gerrit splits like a shell: every argument is
quoted with shlex.quote, and nothing ever runs through a local shell.
"""

from __future__ import annotations

import json
import logging
import shlex
import socket
import threading
from typing import Any, Iterator

import paramiko

from certkit.ci.config import GerritConfig
from certkit.ci.logline import oneline
from certkit.errors import CertkitError

# What the listener acts on (triggers, lifecycle) or observes; Gerrit sends nothing else.
log = logging.getLogger("certkit.ci")
STREAM_TYPES = ("patchset-created", "comment-added", "change-abandoned", "change-deleted",
                "change-restored", "change-merged", "wip-state-changed", "private-state-changed",
                "ref-updated")


class GerritError(CertkitError):
    """Gerrit could not be reached or refused a command (one line, never a secret)."""


class GerritRefused(GerritError):
    """Gerrit ran the command and refused it (non-zero exit status): it did not happen."""


class GerritSSH:
    """One SSH connection to Gerrit's command port."""

    def __init__(self, config: GerritConfig) -> None:
        self.config = config
        self._client: paramiko.SSHClient | None = None
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        return f"{self.config.username}@{self.config.host}:{self.config.port}"

    def connect(self) -> None:
        """Connect and authenticate; raises GerritError with the reason in one line."""
        client = paramiko.SSHClient()
        try:
            client.load_host_keys(str(self.config.known_hosts))
        except (OSError, paramiko.SSHException) as exc:
            raise GerritError(f"{self.config.known_hosts}: cannot read known_hosts: {exc}") from None
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            key = paramiko.PKey.from_path(self.config.key_file, self.config.key_passphrase)
        except paramiko.PasswordRequiredException:
            raise GerritError(f"{self.config.key_file}: key is encrypted; set "
                              f"{self.config.key_passphrase_env or 'gerrit.key_passphrase_env'}") \
                from None
        except (OSError, paramiko.SSHException, ValueError) as exc:
            raise GerritError(f"{self.config.key_file}: not a usable private key "
                              f"({type(exc).__name__})") from None
        try:
            client.connect(self.config.host, port=self.config.port,
                           username=self.config.username, pkey=key, look_for_keys=False,
                           allow_agent=False, timeout=self.config.connect_timeout,
                           banner_timeout=self.config.connect_timeout,
                           auth_timeout=self.config.connect_timeout)
        except paramiko.BadHostKeyException:
            client.close()
            raise GerritError(f"{self.where}: host key does not match {self.config.known_hosts}") \
                from None
        except paramiko.AuthenticationException:
            client.close()
            raise GerritError(f"{self.where}: key {self.config.key_file} refused") from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            client.close()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise GerritError(f"{self.where}: cannot connect: {reason or type(exc).__name__}") \
                from None
        transport = client.get_transport()
        if transport is not None and self.config.keepalive:
            transport.set_keepalive(self.config.keepalive)
        self._client = client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _exec(self, argv: list[str]) -> paramiko.Channel:
        if self._client is None:
            self.connect()
        assert self._client is not None
        command = " ".join(shlex.quote(a) for a in argv)
        transport = self._client.get_transport()
        if transport is None or not transport.is_active():
            raise GerritError(f"{self.where}: connection lost")
        try:
            channel = transport.open_session(timeout=self.config.connect_timeout)
            channel.exec_command(command)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise GerritError(f"{self.where}: {argv[0]} {argv[1]}: {exc or type(exc).__name__}") \
                from None
        return channel

    def run(self, argv: list[str], timeout: float = 60.0) -> str:
        """Run a Gerrit command; its stdout, or GerritError with its stderr's last line."""
        with self._lock:
            channel = self._exec(argv)
            channel.settimeout(timeout)
            try:
                out = _read_all(channel)
                err = _read_all(channel, stderr=True)
                status = channel.recv_exit_status()
            except (socket.timeout, paramiko.SSHException, OSError) as exc:
                raise GerritError(f"{self.where}: {argv[1]}: {exc or 'timed out'}") from None
            finally:
                channel.close()
        if status != 0:
            detail = (err.strip().splitlines() or [f"exit status {status}"])[-1]
            kind = GerritRefused if status > 0 else GerritError  # -1: no status, connection lost
            raise kind(f"{self.where}: gerrit {argv[1]}: {detail}")
        return out

    def open_stream(self) -> paramiko.Channel:
        """Start `gerrit stream-events`; events buffer in the channel until read."""
        argv = ["gerrit", "stream-events"]
        for kind in STREAM_TYPES:
            argv += ["-s", kind]
        return self._exec(argv)

    def stream_events(self, stop: threading.Event,
                      channel: paramiko.Channel | None = None) -> Iterator[str]:
        """Lines of `gerrit stream-events` until the connection drops or stop is set."""
        channel = channel or self.open_stream()
        channel.settimeout(1.0)
        buffer = b""
        try:
            while not stop.is_set():
                try:
                    chunk = channel.recv(65536)
                except socket.timeout:
                    if channel.exit_status_ready() or channel.closed:
                        break
                    continue
                if not chunk:
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    yield line.decode("utf-8", errors="replace")
        finally:
            channel.close()
            if buffer.strip():  # the gap query after the reconnect recovers the event
                log.warning("gerrit stream: a line cut by the disconnect was dropped (%d bytes): "
                            "%s", len(buffer),
                            oneline(buffer[:60].decode("utf-8", errors="replace"), 80))

    def query(self, query: str, *options: str) -> list[dict[str, Any]]:
        """`gerrit query --format=JSON`: the change rows (the stats row is dropped)."""
        out = self.run(["gerrit", "query", "--format=JSON", *options, query])
        rows = []
        for line in out.splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict) and row.get("type") != "stats":
                rows.append(row)
        return rows

    def review(self, project: str, change: int, patchset: int, message: str,
               labels: dict[str, int], tag: str) -> None:
        """`gerrit review` with a message, labels and a tag."""
        argv = ["gerrit", "review", "--project", project, "--message", message, "--tag", tag]
        for label, value in labels.items():
            argv += ["--label", f"{label}={value:+d}"]
        argv.append(f"{change},{patchset}")
        self.run(argv)


def _read_all(channel: paramiko.Channel, stderr: bool = False) -> str:
    data = b""
    recv = channel.recv_stderr if stderr else channel.recv
    while True:
        chunk = recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", errors="replace")
