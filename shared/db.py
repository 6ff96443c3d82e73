"""Database engines: SQLite (WAL, immediate transactions) by default, PostgreSQL when configured."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import JSON, create_engine, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine, make_url

READ_ONLY = "pipeline_read_only"

# JSON on SQLite, JSONB on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and ``BEGIN IMMEDIATE``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        file = Path(parsed.database) if parsed.database and parsed.database != ":memory:" else None
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _make_private(file)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            _make_private(file)
            # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE: a deferred transaction that
            # later writes can fail with SQLITE_BUSY instead of waiting for the lock.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            # Readers that asked for it get a plain deferred BEGIN: in WAL mode they never wait.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _make_private(file: Path | None) -> None:
    """A SQLite file readable by its owner only (SQLite gives its -wal and -shm files the same mode)."""
    if file is not None and file.exists():
        st = file.stat()
        if st.st_mode & 0o077 and st.st_uid == os.getuid():
            file.chmod(0o600)


def read_only(engine: Engine):
    """A connection for reads only (on SQLite it never waits for a writer's lock)."""
    return engine.connect().execution_options(**{READ_ONLY: True})


def check_db(engine: Engine) -> None:
    """Raise if the database does not answer."""
    with read_only(engine) as conn:
        conn.execute(text("SELECT 1"))
