"""TCP ports for every lab, chosen so that they cannot collide.

Binding port 0 and closing the socket at once lets the kernel hand the same port out again to
the next bind: a lab that picked six ports that way once gave PostgreSQL and epmd the same
one. Here every socket stays bound until all the ports asked for are chosen, so the kernel
cannot repeat one; the chosen set is checked for duplicates (a port a lab already holds, or
one an injected chooser repeats) and each port for a listener already there. A port kept from
an earlier `up` is re-checked with `in_use` before it is trusted.
"""

from __future__ import annotations

import errno
import socket
from contextlib import ExitStack
from typing import Callable, Iterable, Mapping

from certkit.lab.processes import LabError

HOST = "127.0.0.1"
ATTEMPTS = 20
"""How many candidates one name may be offered before the allocator gives up."""

Chooser = Callable[[], socket.socket]
"""Returns a socket bound to the candidate port (tests inject one that forces a collision)."""


def bind_any(host: str = HOST) -> socket.socket:
    """A TCP socket bound to a port the kernel picks (not listening: nobody can connect)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, 0))
    except OSError:
        sock.close()
        raise
    return sock


def in_use(port: int, host: str = HOST) -> bool:
    """Whether something listens on host:port or holds it bound (a bind test, not a guess)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        if probe.connect_ex((host, port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def allocate(names: Iterable[str], taken: Mapping[str, int] | None = None,
             choose: Chooser | None = None, host: str = HOST) -> dict[str, int]:
    """A distinct free port for each name, none equal to a port in `taken` (the lab's other
    ports, kept). Every candidate stays bound until all are chosen; a repeated or busy
    candidate is dropped and another asked for. A LabError when no distinct port is found."""
    choose = choose or (lambda: bind_any(host))
    reserved = set((taken or {}).values())
    chosen: dict[str, int] = {}
    with ExitStack() as held:
        for name in names:
            for _ in range(ATTEMPTS):
                sock = held.enter_context(choose())
                port = int(sock.getsockname()[1])
                if port not in reserved and port not in chosen.values():
                    chosen[name] = port
                    break
            else:
                raise LabError(f"no free TCP port for {name} on {host} after {ATTEMPTS} tries")
    duplicates = sorted({p for p in chosen.values() if list(chosen.values()).count(p) > 1})
    if duplicates:  # cannot happen with the checks above; the invariant is worth one line
        raise LabError(f"port allocator chose {duplicates} twice")
    return chosen


def conflicts(ports: Mapping[str, int], owned: Callable[[str], bool],
              host: str = HOST) -> list[str]:
    """Names whose kept port cannot be used again: shared with another name, or busy while
    the lab's own service for it (`owned(name)`: it runs and answers) does not hold it."""
    bad = []
    seen: dict[int, str] = {}
    for name, port in ports.items():
        if port in seen:
            bad.append(name)
            continue
        seen[port] = name
        if not owned(name) and in_use(port, host):
            bad.append(name)
    return bad
