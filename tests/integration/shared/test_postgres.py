"""Every service's schema and ingest's unit of work on a real PostgreSQL database."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.ingest.app import create_app
from services.ingest.db import articles, audit_log, outbox
from deploy import launcher
from shared.config import load_settings

pytestmark = pytest.mark.integration


def test_all_schemas_and_ingest_flow_on_postgres(tmp_path, pg_urls):
    env = {"DATA_DIR": str(tmp_path), "API_TOKEN": "t", "REDIS_URL": "redis://127.0.0.1:1/0"}
    env.update({f"{svc.upper()}_DATABASE_URL": url for svc, url in pg_urls.items()})
    settings = load_settings(env)
    launcher.migrate_databases(settings)
    launcher.migrate_databases(settings)  # idempotent

    app = create_app({"SETTINGS": settings})
    client = app.test_client()
    h = {"Authorization": "Bearer t"}
    art = client.post("/api/articles", headers=h, json={
        "lang": "ru", "title": "Проверка на PostgreSQL", "body": "Текст.", "author": {"name": "Автор"},
        "references": [{"title": "Источник", "url": "https://example.org", "accessed": "2022-10-14"}]}).get_json()
    assert art["slug"] == "proverka-na-postgresql"
    again = client.post("/api/articles", headers=h, json={
        "lang": "ru", "title": "Проверка на PostgreSQL", "body": "Другой.", "author": {"name": "Автор"}}).get_json()
    assert again["slug"] == "proverka-na-postgresql-2"
    resp = client.post(f"/api/articles/{art['id']}/transitions", headers=h, json={"action": "publish"})
    assert resp.status_code == 202

    engine = app.extensions["pipeline"].engine
    assert engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        assert conn.execute(select(articles.c.state).where(articles.c.id == art["id"])).scalar_one() == "publishing"
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == 3
        types = sorted(conn.execute(select(outbox.c.event_type)).scalars())
        snapshot = conn.execute(select(outbox.c.envelope).where(outbox.c.event_type == "article.publish_requested")).scalar_one()
    assert types == ["article.created", "article.created", "article.publish_requested"]
    assert snapshot["data"]["snapshot"]["references"][0]["accessed"] == "2022-10-14"
    engine.dispose()
