"""PostgreSQL and RabbitMQ for the lab: private data directories, loopback, ports chosen now."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Iterator

from certkit.errors import CertkitError
from certkit.livestack.install import postgres_bin
from certkit.livestack.procs import ProcessTable, port_open, wait_until
from certkit.livestack.state import LabState, save_state
from certkit.files import atomic_write

PG_USER = "postgres"
DATABASES = ("keystone", "manila")


def _pg_user() -> str | None:
    """PostgreSQL refuses to run as root: run it as Debian's `postgres` user then."""
    return PG_USER if os.geteuid() == 0 else None


def start_postgres(root: Path, state: LabState, table: ProcessTable) -> None:
    """initdb (first time), start on 127.0.0.1:<port>, create the databases."""
    if table.running("postgres"):
        return
    data = Path(state.pg_dir) if state.pg_dir else None
    bindir = postgres_bin()
    user = _pg_user()
    if data is None or not (data / "PG_VERSION").exists():
        # Outside the lab directory: the postgres user must reach it even when the lab
        # directory sits below a private (0700) parent.
        data = Path(tempfile.mkdtemp(prefix="certkit-manila-pg-"))
        state.pg_dir = str(data)
        save_state(root, state)
        if user:
            shutil.chown(data, user, user)
        # Password authentication (scram), also on loopback: other local users must not
        # reach Keystone's and Manila's databases. The password file lives only for initdb.
        fd, pwfile = tempfile.mkstemp(prefix="certkit-pg-pw-")
        with os.fdopen(fd, "w") as out:
            out.write(pg_password(root, state) + "\n")
        if user:
            shutil.chown(pwfile, user, user)
        argv = [str(bindir / "initdb"), "-D", str(data), "-A", "scram-sha-256", "-U", "certkit",
                "-E", "UTF8", f"--pwfile={pwfile}"]
        if user:
            argv = ["runuser", "-u", user, "--", *argv]
        try:
            proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        finally:
            os.unlink(pwfile)
        if proc.returncode != 0:
            last = proc.stdout.strip().splitlines()[-1:] or ["no output"]
            raise CertkitError(f"lab manila: initdb {data} failed: {last[0]}")
    table.spawn("postgres", [str(bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1",
                             "-p", str(state.ports["postgres"]), "-k", str(data),
                             "-c", "fsync=off", "-c", "max_connections=200"], user=user)
    wait_until(lambda: port_open(state.ports["postgres"]), 30, "accept connections", table, "postgres")
    with _admin_connection(state) as cur:
        for db in DATABASES:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{db}"')


@contextlib.contextmanager
def _admin_connection(state: LabState) -> Iterator[Any]:
    """A cursor on the cluster's `postgres` database as the lab's superuser (autocommit)."""
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=state.ports["postgres"], user="certkit",
                            password=state.passwords["postgres"], dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def recreate_database(state: LabState, db: str) -> None:
    """Drop and create one lab database (another profile's Manila starts empty)."""
    with _admin_connection(state) as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{db}"')


def pg_password(root: Path, state: LabState) -> str:
    """The lab's PostgreSQL password (labs made before it existed get one now)."""
    if "postgres" not in state.passwords:
        state.passwords["postgres"] = secrets.token_hex(16)
        save_state(root, state)
    return state.passwords["postgres"]


def db_url(state: LabState, db: str) -> str:
    """SQLAlchemy URL of a lab database (password auth; it goes only into 0600 config files)."""
    return (f"postgresql+psycopg2://certkit:{state.passwords['postgres']}@127.0.0.1:"
            f"{state.ports['postgres']}/{db}")


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
