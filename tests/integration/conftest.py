"""PostgreSQL fixtures of the integration tests: fresh databases, one per service."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def postgres_admin():
    """An AUTOCOMMIT engine on the test server; skips (or fails under REQUIRE_POSTGRES=1) when none answers."""
    try:
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        admin.connect().close()
    except Exception as exc:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL does not answer at {ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL does not answer at {ADMIN_URL} (set REQUIRE_POSTGRES=1 to make this a failure)")
    return admin


@pytest.fixture
def pg_urls():
    """Four fresh PostgreSQL databases, one per service, dropped afterwards."""
    admin = postgres_admin()
    suffix = uuid.uuid4().hex[:8]
    names = {svc: f"pipeline_test_{svc}_{suffix}" for svc in ("ingest", "translation_status", "rendering", "notification")}
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = ADMIN_URL.rsplit("/", 1)[0]
    yield {svc: f"{base}/{name}" for svc, name in names.items()}
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
