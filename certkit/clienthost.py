"""A client host reached over SSH (paramiko): host key checked against a known_hosts file,
key-based authentication only. The data-path suite runs mount helpers and I/O there.

Commands run one after another in one shell kept open over the connection (`_Shell`), not in
an SSH session each: sshd forks and execs a shell for every session, which cost 0.5 to 2 s a
command on the lab's 2 cores at load 10, against about 10 ms for a command sent to a kept shell
(an exploration observes every identity on every share after every step: dozens of commands).
"""

from __future__ import annotations

import base64
import logging
import re
import secrets
import select
import shlex
import socket
import threading
import time
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


class _Shell:
    """A shell on the client host (one SSH session) that runs commands one at a time: each in a
    subshell of its own (`exit` or `cd` in one leaves the next untouched), its stdin /dev/null
    or the text given, its output and exit status framed by a random token on stdout and
    stderr. A shell whose command did not finish (a timeout, an interrupt) is closed and never
    used again: what it printed later could not be told from the next command's output."""

    SHELL = "exec bash --noprofile --norc"

    def __init__(self, client: Any) -> None:
        # The stdin file is kept: closing it (as garbage) would send EOF and end the shell.
        self.stdin, stdout, _ = client.exec_command(self.SHELL)
        self.channel = stdout.channel
        self.transport = client.get_transport()

    def run(self, command: str, timeout: float, stdin: str | None = None) -> tuple[int, str, str]:
        """(exit status, stdout, stderr); TimeoutError or EOFError when it did not finish."""
        token = secrets.token_hex(8)
        body = f"( eval {shlex.quote(command)} )"
        if stdin is None:
            line = f"{body} </dev/null"
        else:  # printf is a builtin: the text never reaches a command line
            line = f"printf %s {base64.b64encode(stdin.encode()).decode()} | base64 -d | {body}"
        self.channel.sendall(f"{line}; printf '\\n{token} %d\\n' $?; printf '\\n{token}\\n' >&2\n"
                             .encode())
        out, err = bytearray(), bytearray()
        out_done = re.compile(rb"\n" + token.encode() + rb" (\d+)\n$")
        err_done = b"\n" + token.encode() + b"\n"
        deadline = time.monotonic() + timeout
        while True:
            while self.channel.recv_ready():
                out += self.channel.recv(65536)
            while self.channel.recv_stderr_ready():
                err += self.channel.recv_stderr(65536)
            status = out_done.search(out)
            if status and err.endswith(err_done):
                return (int(status.group(1)), out[:status.start()].decode(errors="replace"),
                        err[:-len(err_done)].decode(errors="replace"))
            if self.channel.eof_received or self.channel.closed:
                raise EOFError("the client host's shell exited")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(command)
            select.select([self.channel.fileno()], [], [], min(left, 1.0))

    def close(self) -> None:
        self.channel.close()


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
        self._shell: _Shell | None = None
        self._shell_lock = threading.Lock()

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
        self._drop_shell()
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> "ClientHost":
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, command: str, timeout: float = 120.0, check: bool = False) -> CommandResult:
        """Run a shell command; with check=True a non-zero exit raises a one-line error."""
        status, out, err = self._execute(command, timeout)
        result = CommandResult(command, status, out, err)
        if check and not result.ok:
            last = (err.strip() or out.strip()).splitlines()[-1:] or ["(no output)"]
            raise ClientHostError(f"{self.where}: `{one_line(command, 80)}` exited {status}: {one_line(last[0], 200)}")
        return result

    def _execute(self, command: str, timeout: float, stdin: str | None = None) -> tuple[int, str, str]:
        """(status, stdout, stderr) of `command` in the kept shell; in an SSH session of its own
        when the shell is busy (another thread, or a clean-up run from a signal handler while a
        command was under way)."""
        import paramiko

        if not self._shell_lock.acquire(blocking=False):
            return self._session(command, timeout, stdin)
        try:
            self._ensure_session()
            if self._shell is None or self._shell.transport is not self._client.get_transport():
                self._drop_shell()
                self._shell = _Shell(self._client)
            return self._shell.run(command, timeout, stdin)
        except (socket.timeout, TimeoutError):
            self._drop_shell()  # the command may still print: this shell is done with
            raise self._timed_out(command, timeout) from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise self._broken(command, exc) from None
        except BaseException:
            self._drop_shell()  # interrupted mid-command (Ctrl-C, SIGTERM): never reused
            raise
        finally:
            self._shell_lock.release()

    def _session(self, command: str, timeout: float, stdin: str | None) -> tuple[int, str, str]:
        """`command` in an SSH session of its own (the kept shell is busy)."""
        import paramiko

        self._ensure_session()
        try:
            channel_in, stdout, stderr = self._client.exec_command(command, timeout=timeout)
            if stdin is not None:
                channel_in.write(stdin)
            channel_in.channel.shutdown_write()
            out = stdout.read().decode(errors="replace")
            err = stderr.read().decode(errors="replace")
            return stdout.channel.recv_exit_status(), out, err
        except (socket.timeout, TimeoutError):
            raise self._timed_out(command, timeout) from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise self._broken(command, exc) from None

    def _timed_out(self, command: str, timeout: float) -> ClientHostError:
        return ClientHostError(f"{self.where}: `{one_line(command, 80)}` did not finish within {timeout:g} s")

    def _broken(self, command: str, exc: BaseException) -> ClientHostError:
        self.close()  # the next command connects again
        return ClientHostError(f"{self.where}: `{one_line(command, 80)}`: the connection failed: "
                               f"{one_line(exc, 120)}")

    def _drop_shell(self) -> None:
        shell, self._shell = self._shell, None
        if shell is not None:
            try:
                shell.close()
            except Exception:  # noqa: BLE001 - a dead channel is closed already
                pass

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
        """Write a small file (e.g. a keyring) on the client host; the content goes through
        stdin, never onto a command line."""
        command = (f"umask 077 && mkdir -p {shlex.quote(str(Path(path).parent))} && "
                   f"cat > {shlex.quote(path)} && chmod {mode:o} {shlex.quote(path)}")
        status, _, err = self._execute(command, 30, stdin=content)
        if status != 0:
            raise ClientHostError(f"{self.where}: cannot write {path}: {one_line(err, 200)}")
