"""Idempotency-Key over real HTTP: first answer replayed, 409 while in flight, released on failure."""
from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.ingest import api, commands
from services.ingest.db import idempotency_keys

from .conftest import ARTICLE

pytestmark = pytest.mark.integration


def post(live, body=ARTICLE, key="key-1"):
    return live.api("POST", "/api/articles", json=body, headers={"Idempotency-Key": key})


def test_a_repeat_while_the_first_is_in_flight_gets_409(live, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    real = api.parse_article_input

    def slow(*args, **kwargs):
        entered.set()
        assert release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "parse_article_input", slow)
    answers = {}
    first = threading.Thread(target=lambda: answers.update(first=post(live)))
    first.start()
    try:
        assert entered.wait(10), "the first request never started its work"
        second = post(live)
        assert second.status_code == 409, second.text
        assert second.json()["field"] == "Idempotency-Key" and "still being processed" in second.json()["error"]
    finally:
        release.set()
        first.join(timeout=15)
    assert answers["first"].status_code == 201
    third = post(live)
    assert third.status_code == 201 and third.json() == answers["first"].json()
    assert live.count() == 1


def test_a_failed_request_releases_its_key(live):
    bad = post(live, dict(ARTICLE, title=""), key="key-2")
    assert bad.status_code == 422 and bad.json()["field"] == "title"
    assert live.count(idempotency_keys) == 0
    good = post(live, key="key-2")  # not "used with a different body": the failure kept nothing
    assert good.status_code == 201 and live.count() == 1


def test_a_crash_releases_its_key(live, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash in the service layer")

    monkeypatch.setattr(commands, "create_article", boom)
    assert post(live, key="key-3").status_code == 500
    assert live.count(idempotency_keys) == 0 and live.count() == 0


def test_an_abandoned_pending_key_is_taken_over(live):
    request_hash = hashlib.sha256(json.dumps(ARTICLE, sort_keys=True).encode()).hexdigest()
    with live.engine.begin() as conn:
        conn.execute(idempotency_keys.insert().values(
            key="key-4", request_hash=request_hash, status_code=0, response={},
            created_at=datetime.now(timezone.utc) - timedelta(minutes=10)))
    resp = post(live, key="key-4")
    assert resp.status_code == 201, resp.text
    with live.engine.begin() as conn:
        row = conn.execute(select(idempotency_keys)).mappings().one()
    assert row["status_code"] == 201 and row["response"]["id"] == resp.json()["id"]
