"""The lab's database server: MariaDB (the default, as in Manila's own gate) or PostgreSQL.

Both run from Debian's packages in a private data directory under /tmp (the server's own user,
`mysql` or `postgres`, must reach it), on 127.0.0.1 at the lab's `db` port, with password
authentication for the lab's `certkit` user (other local users cannot read Keystone's or
Manila's tables). A data directory is used again only once its initialisation finished (a
marker written after it): an `up` killed during initdb starts over with a new directory.

Why MariaDB by default: Manila 23 answers 500 on PostgreSQL for share types with
provisioning:min/max_share_size (docs/findings/manila-postgresql-share-size-specs.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Iterator

from certkit.errors import CertkitError
from certkit.livestack.procs import ProcessTable, port_open, wait_until
from certkit.livestack.state import LabState, save_state

KINDS = ("mariadb", "postgresql")
DEFAULT = "mariadb"
DATABASES = ("keystone", "manila")
READY = ".certkit-initialised"
"""Marker in the data directory, written once the server's initialisation has finished."""


def check_kind(kind: str) -> str:
    """`--db` value: mariadb or postgresql (a one-line error otherwise)."""
    word = kind.strip().lower()
    if word not in KINDS:
        raise CertkitError(f"lab up manila: --db: {kind!r} is not {' or '.join(KINDS)}")
    return word


def process_name(state: LabState) -> str:
    """The lab process that serves the database."""
    return "postgres" if state.db == "postgresql" else "mariadb"


def url(state: LabState, db: str) -> str:
    """SQLAlchemy URL of a lab database (password auth; it goes only into 0600 config files)."""
    password, port = state.passwords["db"], state.ports["db"]
    if state.db == "postgresql":
        return f"postgresql+psycopg2://certkit:{password}@127.0.0.1:{port}/{db}"
    return f"mysql+pymysql://certkit:{password}@127.0.0.1:{port}/{db}?charset=utf8"


def _server_user(name: str) -> str | None:
    """Database servers refuse to run as root: Debian's own user then."""
    return name if os.geteuid() == 0 else None


def _data_dir(root: Path, state: LabState, user: str | None) -> tuple[Path, bool]:
    """(the data directory, whether it still needs initialising). A directory whose
    initialisation never finished (an `up` killed half-way) is replaced."""
    old = Path(state.db_dir) if state.db_dir else None
    if old is not None and (old / READY).exists():
        return old, False
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    data = Path(tempfile.mkdtemp(prefix=f"certkit-manila-{state.db}-"))
    state.db_dir = str(data)
    save_state(root, state)
    if user:
        shutil.chown(data, user, user)
    return data, True


def _run(argv: list[str], what: str, input: str | None = None) -> None:
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          input=input)
    if proc.returncode != 0:
        last = [ln for ln in proc.stdout.strip().splitlines() if ln.strip()][-1:] or ["no output"]
        raise CertkitError(f"lab manila: {what} failed: {last[0][:300]}")


def start(root: Path, state: LabState, table: ProcessTable) -> bool:
    """Initialise (first time), start on 127.0.0.1:<db port>, create the lab's databases.
    True when the server was initialised afresh (every database is empty)."""
    name = process_name(state)
    if table.running(name):
        return False
    if state.db == "postgresql":
        fresh = _start_postgres(root, state, table)
    else:
        fresh = _start_mariadb(root, state, table)
    wait_until(lambda: port_open(state.ports["db"]), 60, "accept connections", table, name)
    with connection(state) as cur:
        for db in DATABASES:
            if state.db == "postgresql":
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{db}"')
            else:  # utf8, as devstack creates Manila's and Keystone's databases
                cur.execute(f"CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8")
    return fresh


def _start_postgres(root: Path, state: LabState, table: ProcessTable) -> bool:
    from certkit.livestack.install import postgres_bin

    bindir, user = postgres_bin(), _server_user("postgres")
    data, fresh = _data_dir(root, state, user)
    if fresh:
        # scram-sha-256 also on loopback. The password file lives only for initdb.
        fd, pwfile = tempfile.mkstemp(prefix="certkit-pg-pw-")
        with os.fdopen(fd, "w") as out:
            out.write(state.passwords["db"] + "\n")
        if user:
            shutil.chown(pwfile, user, user)
        argv = [str(bindir / "initdb"), "-D", str(data), "-A", "scram-sha-256", "-U", "certkit",
                "-E", "UTF8", f"--pwfile={pwfile}"]
        try:
            _run(["runuser", "-u", user, "--", *argv] if user else argv, f"initdb {data}")
        finally:
            os.unlink(pwfile)
        (data / READY).write_text("")
    table.spawn("postgres", [str(bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1",
                             "-p", str(state.ports["db"]), "-k", str(data),
                             "-c", "fsync=off", "-c", "max_connections=200"], user=user)
    return fresh


MARIADB_OPTIONS = (
    # Throwaway data: no fsync per commit, no doublewrite, no binary log (as in the gate's
    # devstack, which also turns durability down for speed).
    "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--skip-log-bin",
    "--innodb-buffer-pool-size=64M", "--max-connections=400", "--skip-name-resolve",
    "--character-set-server=utf8", "--collation-server=utf8_general_ci",
    "--performance-schema=OFF",
)


def _start_mariadb(root: Path, state: LabState, table: ProcessTable) -> bool:
    user = _server_user("mysql")
    data, fresh = _data_dir(root, state, user)
    socket = data / "mariadb.sock"
    if fresh:
        # root@localhost authenticates by unix socket only (the default), and the socket lives
        # in the 0700 data directory: only the machine's root reaches it.
        _run(["mariadb-install-db", "--no-defaults", f"--datadir={data}",
              *([f"--user={user}"] if user else []), "--skip-test-db"], "mariadb-install-db")
    server = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
    table.spawn("mariadb", [server, "--no-defaults", f"--datadir={data}",
                            *([f"--user={user}"] if user else []),
                            "--bind-address=127.0.0.1", f"--port={state.ports['db']}",
                            f"--socket={socket}", f"--pid-file={data / 'mariadb.pid'}",
                            *MARIADB_OPTIONS])
    if fresh:
        wait_until(socket.exists, 60, "open its socket", table, "mariadb")
        password = state.passwords["db"]  # hex (LabState.new): nothing to quote
        # The SQL goes through stdin: the password never appears in an argv.
        sql = (f"CREATE USER IF NOT EXISTS 'certkit'@'127.0.0.1' IDENTIFIED BY '{password}';\n"
               "GRANT ALL PRIVILEGES ON *.* TO 'certkit'@'127.0.0.1' WITH GRANT OPTION;\n"
               "FLUSH PRIVILEGES;\n")
        client = shutil.which("mariadb") or "/usr/bin/mariadb"
        wait_until(lambda: subprocess.run([client, "--no-defaults", f"--socket={socket}", "-u",
                                           "root", "-e", "SELECT 1"], capture_output=True
                                          ).returncode == 0, 60, "answer on its socket",
                   table, "mariadb")
        _run([client, "--no-defaults", f"--socket={socket}", "-u", "root"],
             "create the lab's MariaDB user", input=sql)
        (data / READY).write_text("")
    return fresh


@contextlib.contextmanager
def connection(state: LabState) -> Iterator[Any]:
    """A cursor as the lab's superuser (autocommit), over TCP on loopback."""
    host, port, password = "127.0.0.1", state.ports["db"], state.passwords["db"]
    if state.db == "postgresql":
        import psycopg2

        conn = psycopg2.connect(host=host, port=port, user="certkit", password=password,
                                dbname="postgres")
        conn.autocommit = True
    else:
        import pymysql

        conn = pymysql.connect(host=host, port=port, user="certkit", password=password,
                               autocommit=True)
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def recreate(state: LabState, db: str) -> None:
    """Drop and create one lab database (another profile's Manila starts empty)."""
    with connection(state) as cur:
        if state.db == "postgresql":
            cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{db}"')
        else:
            cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
            cur.execute(f"CREATE DATABASE `{db}` CHARACTER SET utf8")


def remove(state: LabState) -> None:
    """Remove the data directory (`down`, once the server has exited)."""
    if state.db_dir:
        shutil.rmtree(state.db_dir, ignore_errors=True)
