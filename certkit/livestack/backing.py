"""RabbitMQ for the lab: a private node and epmd on loopback (the database: database.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from certkit.livestack.procs import ProcessTable, port_open, wait_until
from certkit.livestack.state import LabState
from certkit.files import atomic_write


def rabbit_env(root: Path, state: LabState) -> dict[str, str]:
    """RabbitMQ's environment: private node name, dirs, ports, and its own epmd on loopback."""
    base = root / "rabbitmq"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(base),
        "RABBITMQ_NODENAME": state.rabbit_node,
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "RABBITMQ_NODE_PORT": str(state.ports["rabbit"]),
        "RABBITMQ_DIST_PORT": str(state.ports["rabbit_dist"]),
        "ERL_EPMD_ADDRESS": "127.0.0.1", "ERL_EPMD_PORT": str(state.ports["epmd"]),
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"), "RABBITMQ_LOG_BASE": str(base / "log"),
        "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
        "RABBITMQ_PID_FILE": str(base / "rabbit.pid"),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    }


def start_rabbitmq(root: Path, state: LabState, table: ProcessTable) -> None:
    """A private RabbitMQ node with one user (the lab's random password)."""
    if table.running("rabbitmq"):
        return
    base = root / "rabbitmq"
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    conf = (f"listeners.tcp.1 = 127.0.0.1:{state.ports['rabbit']}\n"
            "default_user = certkit\n"
            f"default_pass = {state.passwords['rabbit']}\n"
            "loopback_users = none\n")
    atomic_write(base / "rabbitmq.conf", conf)
    (base / "enabled_plugins").write_text("[].\n")
    table.spawn("rabbitmq", ["/usr/lib/rabbitmq/bin/rabbitmq-server"], env=rabbit_env(root, state),
                cwd=base)
    wait_until(lambda: port_open(state.ports["rabbit"]), 90, "accept AMQP connections",
               table, "rabbitmq")


def stop_epmd(root: Path, state: LabState) -> None:
    """RabbitMQ starts an epmd daemon that outlives it; ours listens on a private port."""
    epmd = shutil.which("epmd") or "/usr/lib/erlang/bin/epmd"
    if "epmd" in state.ports and Path(epmd).exists():
        subprocess.run([epmd, "-kill"], env=rabbit_env(root, state), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)


def transport_url(state: LabState) -> str:
    """oslo.messaging's URL of the lab's broker."""
    return f"rabbit://certkit:{state.passwords['rabbit']}@127.0.0.1:{state.ports['rabbit']}/"
