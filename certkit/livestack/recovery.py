"""What `certkit lab up manila` checks before it starts anything, so that a failed or killed
`up` is finished by the next one instead of wedging the lab until `down`.

Nothing in state.json is trusted: a process counts as running only when its pidfile's pid is
alive with the recorded start time *and* it answers on its port; a kept port is used again
only when the lab's own service holds it, or it is free and no other service has it. Every
other port is allocated afresh (certkit.lab.ports: no duplicates, none in use) and the
services that use it are restarted on it. Processes the lab started but no pidfile names (an
`up` killed between a start and its pidfile, a one-shot command it left running) are found by
the lab's tag and stopped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from certkit.lab import ports as lab_ports
from certkit.lab.processes import ancestors, descends_from, kill_and_wait, session_of, tagged
from certkit.livestack import database
from certkit.livestack.procs import ProcessTable, port_open
from certkit.livestack.state import LabState

PORTS = ("db", "rabbit", "rabbit_dist", "epmd", "keystone", "manila_api")
MANILA = ("manila-api", "manila-scheduler", "manila-share", "manila-data")


def owner(state: LabState, port: str) -> str:
    """The lab process that listens on a port (epmd and the dist port belong to RabbitMQ)."""
    if port == "db":
        return database.process_name(state)
    return {"keystone": "keystone", "manila_api": "manila-api"}.get(port, "rabbitmq")


def dependents(state: LabState, port: str) -> list[str]:
    """The processes to restart when a port changes: its owner and everything configured
    with it (manila.conf and keystone.conf name the database; manila.conf the broker and
    Keystone)."""
    if port == "db":
        return [database.process_name(state), "rabbitmq", "keystone", *MANILA]
    if port == "keystone":
        return ["keystone", *MANILA]
    if port == "manila_api":
        return ["manila-api"]
    return ["rabbitmq", *MANILA]


def _is_epmd(pid: int) -> bool:
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except OSError:
        return False
    return os.path.basename(argv0.decode(errors="replace")) == "epmd"


def strays(root: Path, table: ProcessTable, everything: bool = False) -> list[tuple[int, int | None]]:
    """Tagged processes of this lab that no running pidfile accounts for (all of them with
    `everything`, for `down`); never this process or its parents. A process accounts for its
    session and its descendants (RabbitMQ's erl_child_setup starts a session of its own);
    RabbitMQ's epmd, which daemonizes, belongs to it while RabbitMQ runs."""
    mine = ancestors()
    tracked = set() if everything else {pid for pid in map(table.pid_of, table.names()) if pid}
    sessions = {session_of(pid) for pid in tracked}
    rabbit_runs = not everything and table.running("rabbitmq")
    return [(pid, started) for pid, started in tagged(root)
            if pid not in mine and session_of(pid) not in sessions
            and not descends_from(pid, tracked) and not (rabbit_runs and _is_epmd(pid))]


def verify(root: Path, state: LabState, table: ProcessTable, progress: Callable[[str], None],
           choose: lab_ports.Chooser | None = None) -> list[str]:
    """Stop strays and services that run without answering, re-allocate every port that
    cannot be used again (and the missing ones) and stop the services that depend on them.
    Returns the ports allocated afresh; the caller saves the state."""
    left = strays(root, table)
    if left:
        progress(f"stopping {len(left)} process(es) a previous `up` left without a pidfile")
        kill_and_wait(left)
    for port in PORTS:
        name = owner(state, port)
        if port in state.ports and table.running(name) and not port_open(state.ports[port]):
            progress(f"{name} runs but does not answer on 127.0.0.1:{state.ports[port]}: restarting it")
            table.stop(name)

    def owned(port: str) -> bool:
        return table.running(owner(state, port)) and port_open(state.ports[port])

    kept = {p: n for p, n in state.ports.items() if p in PORTS}
    bad = lab_ports.conflicts(kept, owned)
    if bad:
        progress(f"port(s) of {', '.join(bad)} in use by something else or shared: choosing "
                 "new ones and restarting what uses them")
        for name in dict.fromkeys(n for p in bad for n in dependents(state, p)):
            table.stop(name)
        for port in bad:
            del kept[port]
    fresh = lab_ports.allocate([p for p in PORTS if p not in kept], kept, choose)
    state.ports = {**kept, **fresh}
    return sorted(fresh)
