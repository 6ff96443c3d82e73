"""Schema migrations: each service's own Alembic history, run under a lock before any process starts.

Every service owns ``services/<service>/migrations/`` (``env.py`` and ``versions/``) and records
its revision in its own table ``alembic_version_<service>`` (a database given to the wrong service
shows no revision instead of another service's). ``upgrade`` takes a lock first (a PostgreSQL advisory lock, or an exclusive file lock
beside a SQLite file), so any number of concurrent runs on a fresh database all succeed: the
first migrates, the others find the schema at head.

Command line (what ``make up``, ``make migrate`` and the compose ``migrate`` service run)::

    python -m deploy.migrate upgrade [SERVICE ...]          # every service by default
    python -m deploy.migrate current [SERVICE ...]
    python -m deploy.migrate check [SERVICE ...]            # models and head agree?
    python -m deploy.migrate revision SERVICE -m "message"  # autogenerate the next migration
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import logging
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, MetaData, inspect, text
from sqlalchemy.engine import Connection, Engine

from services.ingest.db import UNMODELLED_TABLE_PREFIXES as ingest_unmodelled
from services.ingest.db import metadata as ingest_md
from services.notification.db import metadata as notification_md
from services.rendering.db import UNMODELLED_TABLE_PREFIXES as rendering_unmodelled
from services.rendering.db import metadata as rendering_md
from services.translation_status.db import metadata as translation_md
from shared.config import SERVICES, Settings, load_settings
from shared.db import make_engine

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
RELEASE_0_1_0 = "0001"  # every service's first migration is release 0.1.0's schema


METADATA: dict[str, MetaData] = {"ingest": ingest_md, "translation_status": translation_md,
                                 "rendering": rendering_md, "notification": notification_md}


# Tables a service's migrations create by hand that its models cannot declare (SQLite FTS5 virtual
# tables and their shadow tables): name prefixes autogenerate and ``check`` leave alone.
UNMODELLED: dict[str, tuple[str, ...]] = {"ingest": ingest_unmodelled, "rendering": rendering_unmodelled}


def metadata_of(service: str) -> MetaData:
    """The service's tables as its code declares them (``services/<service>/db.py``)."""
    return METADATA[service]


def version_table(service: str) -> str:
    """The table holding ``service``'s current revision."""
    return f"alembic_version_{service}"


def alembic_config(service: str, connection: Connection | None = None) -> Config:
    """An Alembic config for ``service`` (no alembic.ini needed); ``connection`` is used when given."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    cfg.attributes["service"] = service
    cfg.attributes["connection"] = connection
    return cfg


def run_env(service: str) -> None:
    """The body of every ``services/<service>/migrations/env.py``: run online on the given connection."""
    from alembic import context

    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(f"run migrations with `python -m deploy.migrate upgrade {service}`, "
                           "which takes the lock and passes the connection")
    context.configure(
        connection=connection,
        target_metadata=metadata_of(service),
        version_table=version_table(service),
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        # shared.db's SQLite engines issue BEGIN themselves, so DDL rolls back with a failed migration.
        transactional_ddl=True,
        compare_type=True,
        include_name=_not_version_tables(service),
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _render_item(type_, obj, autogen_context):
    """Render shared.db.JSONType as itself (Alembic's default rendering of the variant does not import)."""
    if type_ == "type" and isinstance(obj, JSON) and "postgresql" in getattr(obj, "_variant_mapping", {}):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')"
    return False


def _not_version_tables(service: str):
    """Autogenerate ignores the version tables and the service's hand-made tables (``UNMODELLED``)."""
    skipped = ("alembic_version",) + UNMODELLED.get(service, ())

    def include(name, type_, _parent_names):
        if type_ != "table":
            return True
        return not (name or "").startswith(skipped)
    return include


def _lock_key(service: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory lock."""
    digest = hashlib.sha256(f"policy-pipeline:migrate:{service}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def migration_lock(engine: Engine, service: str, timeout: float = 600) -> Iterator[Connection]:
    """A connection holding ``service``'s migration lock (advisory on PostgreSQL, a file lock on SQLite)."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT set_config('lock_timeout', :t, false)"), {"t": f"{int(timeout * 1000)}"})
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _lock_key(service)})
            conn.commit()
            try:
                yield conn
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(service)})
                conn.commit()
        return
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        with engine.connect() as conn:
            yield conn
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another migration of {service} holds {lock_path} for over {timeout:.0f} s; "
                                       "wait for it, or remove the file if no migration runs")
                time.sleep(0.05)
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def adopt_release_0_1_0(conn: Connection, service: str) -> bool:
    """Stamp a database that release 0.1.0's ``create_all`` made (no history yet) as revision 0001.

    Returns whether it did. A database with some of 0.1.0's tables but not all is refused, naming them.
    """
    if MigrationContext.configure(conn, opts={"version_table": version_table(service)}).get_current_revision():
        return False
    present = set(inspect(conn).get_table_names())
    if "inbox" not in present:  # every service of 0.1.0 had an inbox: this database is empty
        return False
    script = ScriptDirectory.from_config(alembic_config(service)).get_revision(RELEASE_0_1_0)
    expected = set(re.findall(r"op\.create_table\('(\w+)'", Path(script.path).read_text()))
    missing = expected - present
    if missing:
        raise RuntimeError(f"{service}: the database has tables of release 0.1.0 but not {', '.join(sorted(missing))}; "
                           "start release 0.1.0 once against it (it creates them), then upgrade again")
    log.warning("%s: database made by release 0.1.0 (no migration history); recorded as revision %s",
                service, RELEASE_0_1_0)
    command.stamp(alembic_config(service, conn), RELEASE_0_1_0)
    return True


def upgrade(service: str, url: str, revision: str = "head") -> str | None:
    """Bring ``service``'s database at ``url`` to ``revision`` under the lock; return the new revision."""
    engine = make_engine(url)
    try:
        with migration_lock(engine, service) as conn:
            adopt_release_0_1_0(conn, service)
            command.upgrade(alembic_config(service, conn), revision)
            conn.commit()
            return MigrationContext.configure(conn, opts={"version_table": version_table(service)}).get_current_revision()
    finally:
        engine.dispose()


def current(service: str, url: str) -> str | None:
    """The revision ``service``'s database is at (None when never migrated)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn, opts={"version_table": version_table(service)}).get_current_revision()
    finally:
        engine.dispose()


def head(service: str) -> str:
    """The newest revision of ``service``'s migration history."""
    return ScriptDirectory.from_config(alembic_config(service)).get_current_head()


def differences(service: str, url: str) -> list:
    """What autogenerate would change to make the database at ``url`` match the models (empty: they agree)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={
                "compare_type": True, "version_table": version_table(service),
                "include_name": _not_version_tables(service), "target_metadata": metadata_of(service)})
            return compare_metadata(ctx, metadata_of(service))
    finally:
        engine.dispose()


def upgrade_all(settings: Settings, services: tuple[str, ...] = SERVICES, log_fn=None) -> dict[str, float]:
    """Upgrade every service's database to head; seconds taken per service."""
    taken = {}
    for service in services:
        started = time.monotonic()
        rev = upgrade(service, settings.database_url(service))
        taken[service] = time.monotonic() - started
        if log_fn:
            log_fn(f"{service}: schema at {rev} ({taken[service]:.2f} s)")
    return taken


def new_revision(service: str, message: str) -> None:
    """Autogenerate the next migration of ``service`` from the models (against a scratch SQLite at head)."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / (service + '.db')}"
        upgrade(service, url)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                existing = sorted(p.name for p in (ROOT / "services" / service / "migrations" / "versions").glob("*.py"))
                number = 1 + max((int(n.split("_")[0]) for n in existing if n.split("_")[0].isdigit()), default=0)
                command.revision(alembic_config(service, conn), message=message, autogenerate=True,
                                 rev_id=f"{number:04d}")
                conn.commit()
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Command line: upgrade, current, check or revision."""
    parser = argparse.ArgumentParser(prog="python -m deploy.migrate")
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in ("upgrade", "current", "check"):
        p = sub.add_parser(name)
        p.add_argument("services", nargs="*", metavar="SERVICE", help=", ".join(SERVICES))
    rev = sub.add_parser("revision", help="autogenerate the next migration from the models")
    rev.add_argument("service", choices=SERVICES)
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.cmd == "revision":
        new_revision(args.service, args.message)
        return 0
    unknown = set(args.services) - set(SERVICES)
    if unknown:
        parser.error(f"unknown service {', '.join(sorted(unknown))}; one of {', '.join(SERVICES)}")
    settings = load_settings()
    services = tuple(args.services) or SERVICES
    if args.cmd == "upgrade":
        upgrade_all(settings, services, log_fn=print)
        return 0
    status = 0
    for service in services:
        url = settings.database_url(service)
        if args.cmd == "current":
            print(f"{service}: {current(service, url)} (head {head(service)})")
        else:
            diff = differences(service, url)
            print(f"{service}: {'models and database agree' if not diff else diff}")
            status = status or (1 if diff else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
