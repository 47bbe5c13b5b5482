"""The client host's connection is opened again when the far end closed it between commands,
and a connection that breaks during a command is a one-line `ClientHostError` (no paramiko
traceback reaches a run's teardown, which would lose the report)."""

from __future__ import annotations

import paramiko
import pytest

from certkit.clienthost import ClientHost, ClientHostError


class _Transport:
    def __init__(self, active: bool) -> None:
        self.active = active

    def is_active(self) -> bool:
        return self.active


class _Client:
    """What ClientHost uses of paramiko.SSHClient; exec_command fails like a dead transport."""

    def __init__(self, active: bool) -> None:
        self.transport = _Transport(active)
        self.closed = False

    def get_transport(self) -> _Transport:
        return self.transport

    def exec_command(self, command: str, timeout: float | None = None) -> None:
        raise paramiko.SSHException("SSH session not active")

    def close(self) -> None:
        self.closed = True


def _host(monkeypatch: pytest.MonkeyPatch, connections: list[_Client], active: bool) -> ClientHost:
    host = ClientHost("lab", "192.0.2.1", "root", "/nonexistent")

    def connect() -> ClientHost:
        host._client = _Client(active)
        connections.append(host._client)
        return host

    monkeypatch.setattr(host, "connect", connect)
    return host


def test_a_closed_connection_is_opened_again_before_the_next_command(monkeypatch):
    connections: list[_Client] = []
    host = _host(monkeypatch, connections, active=True)
    dead = _Client(active=False)
    host._client = dead
    with pytest.raises(ClientHostError):
        host.run("true")
    assert dead.closed and len(connections) == 1, "a dead transport is replaced before the command"


def test_a_connection_broken_during_a_command_is_one_line_and_reconnects_next_time(monkeypatch):
    connections: list[_Client] = []
    host = _host(monkeypatch, connections, active=True)
    with pytest.raises(ClientHostError, match=r"`ls /x`: the connection failed: SSH session not active$"):
        host.run("ls /x")
    assert host._client is None and connections[0].closed
    with pytest.raises(ClientHostError):
        host.run("ls /x")
    assert len(connections) == 2
