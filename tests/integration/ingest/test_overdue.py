"""Scheduled articles past their time show up as overdue on the article list (an alert, not a silent skip)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.ingest import users
from services.ingest.app import create_app
from shared.config import load_settings
from tests.helpers import migrated, quiet_redis

pytestmark = pytest.mark.integration


def test_overdue_schedule_is_listed(tmp_path, redis_url):
    settings = load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": "t", "REDIS_URL": quiet_redis(redis_url)})
    app = create_app({"SETTINGS": migrated(settings), "WTF_CSRF_ENABLED": False})
    with app.extensions["pipeline"].engine.begin() as conn:
        users.create_user(conn, "ed@example.org", "a long password", "editor")
    api = {"Authorization": "Bearer t"}
    client = app.test_client()
    art = client.post("/api/articles", headers=api, json={
        "lang": "en", "title": "Missed Its Slot", "body": "Body.", "author": {"name": "A"}}).get_json()
    for action in ("submit", "approve"):
        assert client.post(f"/api/articles/{art['id']}/transitions", headers=api, json={"action": action}).status_code == 202
    soon = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    client.post(f"/api/articles/{art['id']}/transitions", headers=api, json={"action": "schedule", "publish_at": soon})
    assert client.post("/login", data={"email": "ed@example.org", "password": "a long password"}).status_code == 302
    assert b"Overdue schedules" not in client.get("/articles").data

    # Nothing published it (no beat here): once its time is more than a minute past, it is flagged.
    from sqlalchemy import update

    from services.ingest.db import articles
    with app.extensions["pipeline"].engine.begin() as conn:
        conn.execute(update(articles).values(publish_at=datetime.now(timezone.utc) - timedelta(minutes=5)))
    page = client.get("/articles").get_data(as_text=True)
    assert "Overdue schedules" in page and "Missed Its Slot" in page.split('id="overdue"')[1].split("</section>")[0]
