"""The outbox keeps events while Redis is down and the sweep sends them once it is back."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import redis
from sqlalchemy import select

from services.ingest.app import create_app
from services.ingest.db import outbox
from deploy import launcher
from shared.config import load_settings
from shared.outbox import pending_count, redeliver
from tests.helpers import free_port, migrated

pytestmark = pytest.mark.integration


def test_redis_down_at_commit_loses_nothing(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings = load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": "t", "REDIS_URL": url, "OUTBOX_SWEEP_SECONDS": "0"})
    app = create_app({"SETTINGS": migrated(settings)})
    rt = app.extensions["pipeline"]
    client = app.test_client()
    headers = {"Authorization": "Bearer t"}

    resp = client.post("/api/articles", headers=headers, json={
        "lang": "en", "title": "Written While Redis Was Down", "body": "Body.", "author": {"name": "A"}})
    assert resp.status_code == 201, "the editor's request succeeds although the broker is down"
    assert rt.background.drain(60), "the relay thread gives up on the dead broker"
    assert pending_count(rt.engine, outbox) == 1

    proc = launcher.start_redis(url, tmp_path / "redis", log=lambda *_: None)
    try:
        assert rt.sweep_outbox() == 1
        assert pending_count(rt.engine, outbox) == 0
        assert rt.sweep_outbox() == 0, "a sent event is not sent again"
        queued = redis.Redis.from_url(url).lrange("translation_status", 0, -1)
        assert len(queued) == 1
        message = json.loads(queued[0])
        assert message["headers"]["task"] == "translation_status.record_article_status"
        with rt.engine.begin() as conn:
            event_id = conn.execute(select(outbox.c.event_id)).scalar_one()
        assert event_id in message["body"] or event_id in json.dumps(message)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_sent_events_are_sent_once_more_later(tmp_path):
    """A message Redis lost between BRPOP and kombu's unacked record is covered by one later resend."""
    redis_url = f"redis://127.0.0.1:{free_port()}/0"  # private: no stack worker may consume the queue
    proc = launcher.start_redis(redis_url, tmp_path / "redis", log=lambda *_: None)
    try:
        _resend_once(tmp_path, redis_url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _resend_once(tmp_path, redis_url):
    settings = load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": "t", "REDIS_URL": redis_url})
    app = create_app({"SETTINGS": migrated(settings)})
    rt = app.extensions["pipeline"]
    client = redis.Redis.from_url(redis_url)
    resp = app.test_client().post("/api/articles", headers={"Authorization": "Bearer t"}, json={
        "lang": "en", "title": "Sent Twice", "body": "Body.", "author": {"name": "A"}})
    assert resp.status_code == 201
    assert rt.background.drain(30)
    assert client.llen("translation_status") == 1 and pending_count(rt.engine, outbox) == 0
    assert redeliver(rt.engine, outbox, rt.celery, older_than=timedelta(minutes=5)) == 0, "not yet due"
    assert redeliver(rt.engine, outbox, rt.celery, older_than=timedelta(0)) == 1
    assert redeliver(rt.engine, outbox, rt.celery, older_than=timedelta(0)) == 0, "only once"
    first, second = (json.loads(m) for m in client.lrange("translation_status", 0, -1))
    assert first["body"] == second["body"], "the same event id travels again; the consumer's inbox drops it"


def test_web_apps_relay_after_the_commit_from_a_thread_with_the_requests_correlation(tmp_path):
    redis_url = f"redis://127.0.0.1:{free_port()}/0"  # private: no stack worker may consume the queue
    proc = launcher.start_redis(redis_url, tmp_path / "redis", log=lambda *_: None)
    try:
        settings = load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": "t", "REDIS_URL": redis_url})
        app = create_app({"SETTINGS": migrated(settings)})
        rt = app.extensions["pipeline"]
        assert rt.background is not None, "web apps relay in the background by default"
        for n in range(20):
            resp = app.test_client().post("/api/articles", json={
                "lang": "en", "title": f"Relayed {n}", "body": "Body.", "author": {"name": "A"}},
                headers={"Authorization": "Bearer t", "X-Correlation-ID": f"cid-{n}"})
            assert resp.status_code == 201
        assert rt.background.drain(30)
        assert pending_count(rt.engine, outbox) == 0
        messages = [json.loads(m) for m in redis.Redis.from_url(redis_url).lrange("translation_status", 0, -1)]
        assert len(messages) == 20
        with rt.engine.begin() as conn:
            sent = {row.event_id: row.envelope["correlation_id"] for row in conn.execute(select(outbox))}
        for message in messages:
            event_id = message["headers"]["kwargsrepr"].split()[-1].rstrip("'}")
            assert event_id in sent, message["headers"]["kwargsrepr"]
            assert message["headers"]["correlation_id"] == sent[event_id]
            assert len(message["headers"]["kwargsrepr"]) < 100, "the log line names the event, not its body"
        assert sorted(sent.values()) == sorted(f"cid-{n}" for n in range(20))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_inline_relay_sends_before_the_answer(tmp_path):
    redis_url = f"redis://127.0.0.1:{free_port()}/0"
    proc = launcher.start_redis(redis_url, tmp_path / "redis", log=lambda *_: None)
    try:
        settings = load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": "t", "REDIS_URL": redis_url,
                                  "OUTBOX_RELAY": "inline"})
        app = create_app({"SETTINGS": migrated(settings)})
        assert app.extensions["pipeline"].background is None
        resp = app.test_client().post("/api/articles", headers={"Authorization": "Bearer t"}, json={
            "lang": "en", "title": "Inline", "body": "Body.", "author": {"name": "A"}})
        assert resp.status_code == 201
        assert redis.Redis.from_url(redis_url).llen("translation_status") == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
