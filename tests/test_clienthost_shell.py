"""The client host's kept shell (certkit/clienthost.py `_Shell`), run against a local bash
behind a stand-in for paramiko's channel: each command's output, error output and exit status
come back framed exactly (no newline added or lost, NUL bytes kept), a command cannot disturb
the next (`exit`, `cd`, an unbalanced quote), stdin text reaches the command and never its
command line, and a shell whose command did not finish (a timeout, Ctrl-C) is never used again.
"""

from __future__ import annotations

import os
import subprocess
import threading
from typing import Any

import pytest

from certkit.clienthost import ClientHost, ClientHostError


class _LocalChannel:
    """The part of paramiko.Channel the kept shell uses, over a local process's pipes."""

    def __init__(self, command: str) -> None:
        self.proc = subprocess.Popen(["bash", "-c", command], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out, self.err = bytearray(), bytearray()
        self.lock = threading.Lock()
        self.wake_r, self.wake_w = os.pipe()
        self.eof_received = False
        self.closed = False
        self.readers = [threading.Thread(target=self._pump, args=(pipe, buf), daemon=True)
                        for pipe, buf in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for reader in self.readers:
            reader.start()

    def _pump(self, pipe: Any, buf: bytearray) -> None:
        while chunk := os.read(pipe.fileno(), 65536):
            with self.lock:
                buf += chunk
            os.write(self.wake_w, b"x")
        self.eof_received = True
        os.write(self.wake_w, b"x")

    def _take(self, buf: bytearray, size: int) -> bytes:
        with self.lock:
            chunk = bytes(buf[:size])
            del buf[:size]
            return chunk

    def recv_ready(self) -> bool:
        return bool(self.out)

    def recv_stderr_ready(self) -> bool:
        return bool(self.err)

    def recv(self, size: int) -> bytes:
        return self._take(self.out, size)

    def recv_stderr(self, size: int) -> bytes:
        return self._take(self.err, size)

    def fileno(self) -> int:
        while True:  # drain old wake-ups: select waits for new data only
            try:
                os.set_blocking(self.wake_r, False)
                if not os.read(self.wake_r, 4096):
                    break
            except BlockingIOError:
                break
        return self.wake_r

    def sendall(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close(self) -> None:
        self.closed = True
        self.proc.kill()
        self.proc.wait()


class _Stream:
    def __init__(self, channel: _LocalChannel) -> None:
        self.channel = channel


class _Transport:
    def is_active(self) -> bool:
        return True


class _Client:
    """What ClientHost uses of paramiko.SSHClient: exec_command starts a local bash."""

    def __init__(self) -> None:
        self.transport = _Transport()
        self.channels: list[_LocalChannel] = []

    def get_transport(self) -> _Transport:
        return self.transport

    def exec_command(self, command: str, timeout: float | None = None) -> tuple[Any, _Stream, Any]:
        channel = _LocalChannel(command)
        self.channels.append(channel)
        return None, _Stream(channel), None

    def close(self) -> None:
        for channel in self.channels:
            if not channel.closed:
                channel.close()


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch):
    host = ClientHost("local", "192.0.2.1", "root", "/nonexistent")
    client = _Client()
    monkeypatch.setattr(host, "connect", lambda: setattr(host, "_client", client) or host)
    host._client = client
    yield host
    client.close()


def test_commands_share_one_shell_and_come_back_exactly(host):
    result = host.run("printf 'no newline'; printf 'warn' >&2; exit 3")
    assert (result.status, result.stdout, result.stderr) == (3, "no newline", "warn")
    assert host.run("printf 'a\\0b\\n\\n'").stdout == "a\0b\n\n"
    assert host.run("echo one; echo two >&2").stdout == "one\n"
    big = host.run("head -c 300000 /dev/zero | tr '\\0' x; head -c 200000 /dev/zero >&2")
    assert big.stdout == "x" * 300000 and len(big.stderr) == 200000
    assert len(host._client.channels) == 1, "every command ran in the one kept shell"


def test_a_command_cannot_disturb_the_next(host):
    here = host.run("pwd").stdout
    assert host.run("cd /; exit 0").ok and host.run("pwd").stdout == here
    assert host.run("X=1; export Y=2").ok and host.run("echo ${X:-unset}${Y:-unset}").stdout == "unsetunset\n"
    unbalanced = host.run("echo 'oops")
    assert unbalanced.status != 0 and "matching" in unbalanced.stderr
    assert host.run("cat").stdout == "", "a command's stdin is empty, not the shell's own"
    assert host.run("echo fine").stdout == "fine\n" and len(host._client.channels) == 1


def test_stdin_text_reaches_the_command_and_never_a_command_line(host, tmp_path):
    secret = "AQBsecretkey==\n[client.x]\n\tkey = 'quoted' $HOME\n"
    target = tmp_path / "sub" / "keyring"
    host.write_file(str(target), secret)
    assert target.read_text() == secret and oct(target.stat().st_mode & 0o777) == "0o600"
    lines = [c.proc.args for c in host._client.channels]
    assert all("AQBsecretkey" not in " ".join(args) for args in lines)


def test_a_timed_out_shell_is_never_used_again(host):
    with pytest.raises(ClientHostError, match=r"`sleep 5; echo late` did not finish within 0.5 s$"):
        host.run("sleep 5; echo late", timeout=0.5)
    first = host._client.channels[0]
    assert first.closed, "the shell whose command was still running is closed"
    assert host.run("echo next").stdout == "next\n", "not the late output of the timed-out command"
    assert len(host._client.channels) == 2


def test_an_interrupted_command_drops_the_shell(host, monkeypatch):
    host.run("true")
    shell = host._shell

    def interrupted(*_: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(shell, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        host.run("echo never")
    assert host._shell is None and shell.channel.closed
    assert host.run("echo again").stdout == "again\n"


def test_a_busy_shell_sends_the_command_in_a_session_of_its_own(host, monkeypatch):
    sessions: list[str] = []
    monkeypatch.setattr(host, "_session", lambda command, timeout, stdin: sessions.append(command) or (0, "", ""))
    host.run("true")
    with host._shell_lock:  # as during a clean-up a signal handler runs mid-command
        assert host.run("echo from the handler").ok
    assert sessions == ["echo from the handler"]


def test_a_shell_that_exits_is_a_one_line_error_and_the_next_command_reconnects(host):
    with pytest.raises(ClientHostError, match=r"`kill -9 \$\$`: the connection failed: the client host's shell exited$"):
        host.run("kill -9 $$")
    assert host.run("echo back").stdout == "back\n" and len(host._client.channels) == 2
