"""Migrations: a release 0.1.0 database keeps every row on upgrade; models and head agree; concurrent runs all succeed."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import JSON, Boolean, DateTime, Integer, MetaData, String, Text, inspect, select, text

from deploy import migrate
from shared.config import SERVICES
from shared.db import make_engine

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
RELEASE_0_1_0 = "0001"
ROWS = 3  # per table


@pytest.fixture(params=["sqlite", "postgresql"])
def db_urls(request, tmp_path):
    """One empty database per service, on SQLite files or on fresh PostgreSQL databases."""
    if request.param == "sqlite":
        return {svc: f"sqlite:///{tmp_path / (svc + '.db')}" for svc in SERVICES}
    return request.getfixturevalue("pg_urls")


def _value(table, column, i: int, rows: dict):
    """A distinct, type-correct value for row ``i`` (foreign keys point at row ``i`` of their target)."""
    for fk in column.foreign_keys:
        target = fk.column
        return rows[target.table.name][i][target.name]
    kind = column.type
    if table.name == "processed_webhooks" and column.name == "response":
        return json.dumps({"status": "accepted", "row": i})  # 0.1.0 stored the answer as JSON text
    if isinstance(kind, Boolean):
        return i % 2 == 0
    if isinstance(kind, Integer):
        return i + 1
    if isinstance(kind, DateTime):
        return datetime(2026, 11, 1 + i, 12, 30, i, tzinfo=timezone.utc)
    if isinstance(kind, JSON) or kind.__class__.__name__ in ("JSONB", "JSON"):
        return {"row": i, "column": column.name, "list": [i, "ü"]}
    if isinstance(kind, (String, Text)):
        length = getattr(kind, "length", None) or 200
        return f"{i}-{table.name}.{column.name}"[:length]
    raise AssertionError(f"no sample value for {table.name}.{column.name} ({kind!r})")


def _fill(engine) -> dict[str, list[dict]]:
    """Put ROWS rows in every table of the database as it is now; return them by table."""
    md = MetaData()
    md.reflect(engine)
    rows: dict[str, list[dict]] = {}
    with engine.begin() as conn:
        for table in md.sorted_tables:
            if table.name.startswith("alembic_version"):
                continue
            rows[table.name] = [{c.name: _value(table, c, i, rows) for c in table.columns} for i in range(ROWS)]
            conn.execute(table.insert(), rows[table.name])
    return rows


def _normal(value):
    """Values compared across dialects: datetimes as naive UTC."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    return value


def _read(engine, name: str) -> list[dict]:
    md = MetaData()
    table = md.reflect(engine, only=[name]) or md.tables[name]
    with engine.connect() as conn:
        return [{k: _normal(v) for k, v in row.items()} for row in conn.execute(select(table)).mappings()]


def _key(row: dict) -> str:
    return json.dumps(row, sort_keys=True, default=str)


@pytest.mark.parametrize("made_by", ["create_all", "migration 0001"])
def test_upgrade_from_release_0_1_0_keeps_every_row(db_urls, made_by):
    for service in SERVICES:
        url = db_urls[service]
        assert migrate.upgrade(service, url, RELEASE_0_1_0) == RELEASE_0_1_0
        engine = make_engine(url)
        if made_by == "create_all":  # what 0.1.0 left: its tables and no migration history
            with engine.begin() as conn:
                conn.execute(text(f"DROP TABLE {migrate.version_table(service)}"))
            assert migrate.current(service, url) is None
        before = _fill(engine)
        started = time.monotonic()
        assert migrate.upgrade(service, url) == migrate.head(service)
        print(f"{service}: 0001 -> {migrate.head(service)} in {time.monotonic() - started:.2f} s")
        tables = set(inspect(engine).get_table_names())
        for name, rows in before.items():
            expected = [{k: _normal(v) for k, v in row.items()} for row in rows]
            if (service, name) == ("translation_status", "processed_webhooks"):
                assert name not in tables
                moved = {r["webhook_id"]: r for r in _read(engine, "inbound_webhooks")}
                assert sorted(moved) == sorted(r["webhook_id"] for r in expected)
                for old in expected:
                    new = moved[old["webhook_id"]]
                    assert new["response"] == json.loads(old["response"]) and new["request_hash"] == ""
                    assert (new["status_code"], new["received_at"]) == (old["status_code"], old["received_at"])
            elif (service, name) == ("notification", "outbox"):
                # Release 0.1.0 never wrote here; sent rows go with the table (unsent ones stop the upgrade).
                assert name not in tables
            else:
                # Later releases add columns; every value the row had is still there.
                columns = set(expected[0]) if expected else set()
                after = [{k: v for k, v in row.items() if k in columns} for row in _read(engine, name)]
                assert sorted(map(_key, after)) == sorted(map(_key, expected)), (service, name)
                if (service, name) == ("ingest", "wxr_imports"):
                    assert all(r["dedupe_key"] == "guid:" + r["guid"] for r in _read(engine, name))
        engine.dispose()


def test_unsent_notification_outbox_rows_stop_the_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'notification.db'}"
    migrate.upgrade("notification", url, RELEASE_0_1_0)
    engine = make_engine(url)
    md = MetaData()
    md.reflect(engine, only=["outbox"])
    with engine.begin() as conn:
        conn.execute(md.tables["outbox"].insert().values(
            event_id="e1", event_type="x", envelope={}, created_at=datetime.now(timezone.utc), send_attempts=0))
    with pytest.raises(RuntimeError, match="unsent"):
        migrate.upgrade("notification", url)
    assert migrate.current("notification", url) == RELEASE_0_1_0
    assert "outbox" in inspect(engine).get_table_names(), "the failed migration rolled back"
    engine.dispose()


def test_translation_status_webhook_migrated_from_0_1_0_answers_a_retry_as_before(tmp_path):
    from shared.signed import inbound_table, stored_answer

    table = inbound_table(MetaData())
    url = f"sqlite:///{tmp_path / 'translation_status.db'}"
    migrate.upgrade("translation_status", url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(table.insert().values(webhook_id="w1", request_hash="", status_code=202,
                                           response={"status": "accepted"}, received_at=datetime.now(timezone.utc)))
        assert stored_answer(conn, table, "w1", "any-body-hash") == (202, {"status": "accepted"})
    engine.dispose()


def test_models_and_migration_head_agree(db_urls):
    for service in SERVICES:
        migrate.upgrade(service, db_urls[service])
        assert migrate.differences(service, db_urls[service]) == [], service


def _concurrent_upgrades(env_urls: dict, tmp_path: Path, n: int = 6) -> list[subprocess.CompletedProcess]:
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "API_TOKEN": "t", "SECRET_KEY": "s",
           "INBOUND_WEBHOOK_SECRET": "whsec_x"}
    env.update({f"{svc.upper()}_DATABASE_URL": url for svc, url in env_urls.items()})
    procs = [subprocess.Popen([sys.executable, "-m", "deploy.migrate", "upgrade"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(n)]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=120), *p.communicate()) for p in procs]


def test_six_concurrent_migrate_runs_on_fresh_databases_all_succeed(db_urls, tmp_path):
    started = time.monotonic()
    results = _concurrent_upgrades(db_urls, tmp_path)
    print(f"6 concurrent `python -m deploy.migrate upgrade` runs: {time.monotonic() - started:.2f} s")
    for result in results:
        assert result.returncode == 0, result.stderr[-3000:]
    for service in SERVICES:
        assert migrate.current(service, db_urls[service]) == migrate.head(service)
        assert migrate.differences(service, db_urls[service]) == []


def test_each_service_history_has_one_head():
    # Two branches that each added a migration leave two heads: renumber one and point its
    # down_revision at the other (docs/ops.md, "Adding a migration").
    from alembic.script import ScriptDirectory

    for service in SERVICES:
        heads = ScriptDirectory.from_config(migrate.alembic_config(service)).get_heads()
        assert len(heads) == 1, f"{service} has heads {heads}"


def test_a_partial_release_0_1_0_database_is_refused_naming_the_missing_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'rendering.db'}"
    migrate.upgrade("rendering", url, RELEASE_0_1_0)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version_rendering"))
        conn.execute(text("DROP TABLE redirects"))
    engine.dispose()
    with pytest.raises(RuntimeError, match="not redirects"):
        migrate.upgrade("rendering", url)
