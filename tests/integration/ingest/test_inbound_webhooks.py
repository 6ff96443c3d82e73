"""POST /webhooks/articles over real HTTP: signed upserts, retries, replays and their answers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.ingest.db import external_refs, inbound_webhooks, outbox, revisions

from .conftest import ARTICLE

pytestmark = pytest.mark.integration


def upsert(external_id: str = "acme-1", **fields) -> dict:
    return {"type": "article.upsert", "data": {"external_id": external_id, **ARTICLE, **fields}}


def test_create_then_update_by_external_id(live):
    created = live.webhook(upsert(), msg_id="msg_1")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["action"] == "created" and body["external_id"] == "acme-1" and body["source"] == "partner"
    art = body["article"]
    assert art["state"] == "draft" and art["revision"] == 1 and art["created_by"] == "webhook:partner"

    updated = live.webhook(upsert(title="Pipelines and Power, Revised"), msg_id="msg_2")
    assert updated.status_code == 200, updated.text
    assert updated.json()["action"] == "updated"
    assert updated.json()["article"]["id"] == art["id"] and updated.json()["article"]["revision"] == 2
    assert live.count() == 1 and live.count(revisions) == 2
    with live.engine.begin() as conn:
        assert conn.execute(select(external_refs.c.article_id)).scalars().all() == [art["id"]]
        assert conn.execute(select(outbox.c.event_type)).scalars().all() == ["article.created", "article.updated"]
    fetched = live.api("GET", f"/api/articles/{art['id']}").json()
    assert fetched["title"] == "Pipelines and Power, Revised"


def test_a_retry_with_a_fresh_timestamp_answers_the_first_answer_and_changes_nothing(live):
    first = live.webhook(upsert(), msg_id="msg_retry", at=datetime.now(timezone.utc) - timedelta(minutes=4))
    retry = live.webhook(upsert(), msg_id="msg_retry")
    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json()
    assert live.count() == 1 and live.count(outbox) == 1 and live.count(inbound_webhooks) == 1
    # The same message id with another body is not a retry.
    other = live.webhook(upsert(title="Another"), msg_id="msg_retry")
    assert other.status_code == 409 and other.json()["field"] == "webhook-id"
    assert live.count() == 1


def test_an_update_retry_makes_no_third_revision(live):
    live.webhook(upsert(), msg_id="m1")
    second = live.webhook(upsert(body="New text.[1]"), msg_id="m2")
    again = live.webhook(upsert(body="New text.[1]"), msg_id="m2")
    assert second.json() == again.json() and second.json()["article"]["revision"] == 2
    assert live.count(revisions) == 2


def test_translation_via_group_id_and_field_errors(live):
    src = live.webhook(upsert(), msg_id="g1").json()["article"]
    tr = live.webhook(upsert("acme-1-tr", lang="tr", title="Boru Hatları ve Güç", group_id=src["group_id"]), msg_id="g2")
    assert tr.status_code == 201 and tr.json()["article"]["group_id"] == src["group_id"]
    bad = live.webhook(upsert(title=""), msg_id="g3")
    assert bad.status_code == 422 and bad.json()["field"] == "data.title"
    lang = live.webhook(upsert(lang="ru"), msg_id="g4")
    assert lang.status_code == 422 and lang.json()["field"] == "data.lang"
    # A refused message is not remembered: the partner can fix it and send it under a new id.
    assert live.count(inbound_webhooks) == 2 and live.count() == 2


def test_processed_ids_are_kept_for_seven_days(live):
    with live.engine.begin() as conn:
        conn.execute(inbound_webhooks.insert().values(
            webhook_id="ancient", request_hash="0" * 64, status_code=201, response={},
            received_at=datetime.now(timezone.utc) - timedelta(days=8)))
        conn.execute(inbound_webhooks.insert().values(
            webhook_id="recent", request_hash="0" * 64, status_code=201, response={"kept": True},
            received_at=datetime.now(timezone.utc) - timedelta(days=6)))
    assert live.webhook(upsert(), msg_id="fresh").status_code == 201
    with live.engine.begin() as conn:
        ids = set(conn.execute(select(inbound_webhooks.c.webhook_id)).scalars())
    assert ids == {"recent", "fresh"}


def test_script_in_a_webhook_body_is_sanitised(live):
    resp = live.webhook(upsert(body="Hi <script>alert(1)</script><img src=x onerror=alert(1)>"), msg_id="xss")
    assert resp.status_code == 201
    from services.ingest.db import articles
    with live.engine.begin() as conn:
        html = conn.execute(select(articles.c.body_html)).scalar_one()
    assert "<script" not in html and "onerror" not in html
