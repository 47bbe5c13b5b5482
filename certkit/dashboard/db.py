"""Database URL, engine and migrations: SQLite by default (no set-up), PostgreSQL by URL."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from certkit.errors import CertkitError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DB_ENV = "CERTKIT_DASHBOARD_DB"
SYNC_ENV = "CERTKIT_DASHBOARD_SQLITE_SYNC"


def sqlite_synchronous() -> str:
    """$CERTKIT_DASHBOARD_SQLITE_SYNC: NORMAL (default; survives a killed server) or FULL (also
    survives power loss, at the price of an fsync per accepted report)."""
    value = os.environ.get(SYNC_ENV, "NORMAL").strip().upper()
    if value not in ("NORMAL", "FULL"):
        raise CertkitError(f"dashboard: ${SYNC_ENV}={value[:20]!r}: must be NORMAL or FULL")
    return value


def default_db_url() -> str:
    """$CERTKIT_DASHBOARD_DB, else a SQLite file under $XDG_DATA_HOME/certkit (~/.local/share)."""
    if os.environ.get(DB_ENV):
        return os.environ[DB_ENV]
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{base / 'certkit' / 'dashboard.sqlite'}"


def normalise_url(url: str) -> str:
    """Accept a bare path as SQLite and postgresql:// as psycopg 3; reject anything else clearly."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise CertkitError(f"dashboard: --db {url!r}: not a database URL ({exc})") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise CertkitError(f"dashboard: --db: {parsed.get_backend_name()!r} is not supported "
                           "(use a SQLite path or postgresql://...)")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """An engine. SQLite files get WAL with synchronous=NORMAL: a committed (accepted) report is in
    the WAL file, written before the commit returns, so it survives a killed server process; only
    an OS crash or power loss can lose the last commits (synchronous=FULL would fsync each one)."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        synchronous = sqlite_synchronous()
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # Pages read a few thousand rows of a large file: a 64 MiB page cache per connection
            # (grown only as used) and memory-mapped reads spare a read() call per page.
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute("PRAGMA mmap_size=1073741824")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (creates it on an empty database)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_database(url: str | None = None) -> sessionmaker[Session]:
    """Engine + migrations + session factory for a URL (default: the SQLite file)."""
    engine = make_engine(url or default_db_url())
    try:
        migrate(engine)
    except Exception as exc:  # noqa: BLE001 - refused, bad credentials, read-only file: one line
        safe = make_url(normalise_url(url or default_db_url())).render_as_string(hide_password=True)
        raise CertkitError(f"dashboard: cannot open database {safe}: "
                           f"{str(exc).splitlines()[0]}") from None
    return sessionmaker(engine, expire_on_commit=False)


def utcnow() -> datetime:
    """Now, in UTC (aware)."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """SQLite gives naive datetimes back: they are UTC."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
