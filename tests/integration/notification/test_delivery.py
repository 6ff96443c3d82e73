"""Delivery and email logic in-process against a real SQLite database, a real loopback receiver and a
real SMTP server (aiosmtpd): rotation signatures, Retry-After, send-time SSRF, 5-day disable, email dedupe."""
from __future__ import annotations

import ipaddress
import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook

from services.notification import delivery as svc
from services.notification import subscriptions as subscriptions_svc
from services.notification import mail
from services.notification.db import deliveries, emails, subscriptions
from shared.db import make_engine
from shared.events import utcnow
from tests.helpers import free_port, migrated_db, start_receiver
from tests.stack import running_smtp

pytestmark = pytest.mark.integration
LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)


@pytest.fixture
def engine(tmp_path):
    eng = make_engine(migrated_db("notification", f"sqlite:///{tmp_path / 'notification.db'}"))
    yield eng
    eng.dispose()


@pytest.fixture
def receiver():
    rec = start_receiver()
    yield rec
    rec.close()


@pytest.fixture
def smtp():
    """A private real SMTP server (aiosmtpd) for one test."""
    with running_smtp() as inbox:
        yield inbox


def _subscription(engine, url, **extra):
    fields = subscriptions_svc.parse_subscription(dict({"url": url, "events": ["article.published"]}, **extra), ("en", "tr", "ru"), LOOPBACK)
    with engine.begin() as conn:
        return subscriptions_svc.create_subscription(conn, fields)


def _event(lang="en"):
    return {"id": f"evt-{time.time_ns()}", "type": "article.published", "occurred_at": utcnow().isoformat(),
            "data": {"article_id": "a1", "group_id": "g1", "lang": lang, "title": "T", "url": "https://site/en/t/",
                     "slug": "t", "revision": 1, "published_at": utcnow().isoformat(), "translations": {}}}


def _plan(engine, envelope=None):
    with engine.begin() as conn:
        return svc.plan_deliveries(conn, envelope or _event())


def _send(engine, delivery_id, allowlist=LOOPBACK, scale=0.0):
    return svc.send_delivery(engine, delivery_id, allowlist=allowlist, timeout=5, scale=scale)


def test_rotation_signs_with_both_secrets_during_the_overlap(engine, receiver):
    sub = _subscription(engine, receiver.url + "/rot")
    with engine.begin() as conn:
        new = subscriptions_svc.rotate_secret(conn, sub["id"], timedelta(hours=1))
    [delivery_id] = _plan(engine)
    assert _send(engine, delivery_id) == "succeeded"
    hit = receiver.for_path("/rot")[0]
    assert len(hit.headers["webhook-signature"].split(" ")) == 2
    for secret in (sub["secret"], new):  # a receiver on either secret verifies
        Webhook(secret).verify(hit.body, hit.headers)

    with engine.begin() as conn:  # after the overlap only the new secret signs
        conn.execute(update(subscriptions).values(previous_secret_expires_at=utcnow() - timedelta(seconds=1)))
    [second] = _plan(engine)
    _send(engine, second)
    last = receiver.for_path("/rot")[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(last.body, last.headers)
    with pytest.raises(Exception):
        Webhook(sub["secret"]).verify(last.body, last.headers)


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(engine, receiver, status):
    sub = _subscription(engine, receiver.url + "/busy")
    receiver.responses.append((status, {"Retry-After": "120"}))
    [delivery_id] = _plan(engine)
    before = utcnow()
    assert _send(engine, delivery_id, scale=1.0) == "retry"
    with engine.begin() as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).mappings().one()
    wait = (row["next_attempt_at"].replace(tzinfo=before.tzinfo) - before).total_seconds()
    assert 119 <= wait <= 125, wait
    assert _send(engine, delivery_id) == "skipped", "not due yet"
    assert sub["id"]


def test_send_time_ssrf_refusal_makes_no_connection(engine, receiver):
    _subscription(engine, receiver.url.replace("127.0.0.1", "localhost") + "/private")
    [delivery_id] = _plan(engine)
    assert _send(engine, delivery_id, allowlist=()) == "retry"  # the allowlist no longer covers loopback
    assert receiver.requests == []
    with engine.begin() as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).mappings().one()
    assert "SSRF" in row["last_error"] and row["last_status_code"] is None


def test_failing_for_five_days_disables_and_emails_the_owner_once(engine, receiver, smtp):
    sub = _subscription(engine, receiver.url + "/down", owner_email="owner@example.org", owner_lang="tr")
    receiver.responses.extend([(500, {})] * 5)
    [first] = _plan(engine)
    assert _send(engine, first) == "retry"
    with engine.begin() as conn:
        assert conn.execute(select(subscriptions.c.failing_since)).scalar_one() is not None
        conn.execute(update(subscriptions).values(failing_since=utcnow() - timedelta(days=5, minutes=1)))
        conn.execute(update(deliveries).values(next_attempt_at=utcnow()))
    assert _send(engine, first, scale=1.0) == "retry"
    with engine.begin() as conn:
        row = conn.execute(select(subscriptions)).mappings().one()
        [email_id] = conn.execute(select(emails.c.id)).scalars().all()
    assert row["enabled"] is False and "5 days" in row["disabled_reason"]

    assert mail.send_email(engine, email_id, smtp.url) == "sent"
    assert mail.send_email(engine, email_id, smtp.url) == "skipped", "a repeated task does not mail twice"
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message.rcpt_tos == ["owner@example.org"]
    text = message.content.decode("utf-8", "replace")
    assert "Webhook" in text and "devre" in text  # the Turkish template, the owner's language
    assert sub["id"]


def test_email_dedupe_key_and_smtp_down(engine, smtp):
    with engine.begin() as conn:
        first = mail.queue_email(conn, dedupe_key="k1", to="a@example.org", lang="ru", kind="test", context={"note": "x"})
        again = mail.queue_email(conn, dedupe_key="k1", to="a@example.org", lang="ru", kind="test", context={"note": "x"})
    assert first and again is None
    closed = f"smtp://127.0.0.1:{free_port()}"
    assert mail.send_email(engine, first, closed) == "retry"
    assert mail.pending_emails(engine) == [], "backing off after a failure"
    with engine.begin() as conn:
        conn.execute(update(emails).values(next_attempt_at=utcnow()))
    assert mail.pending_emails(engine) == [first]
    assert mail.send_email(engine, first, smtp.url) == "sent"
    assert "Это тестовое сообщение" in smtp.messages[0].content.decode("utf-8")


def test_replay_failed_in_a_time_range_keeps_ids(engine, receiver):
    _subscription(engine, receiver.url + "/range")
    ids = _plan(engine) + _plan(engine)
    with engine.begin() as conn:
        conn.execute(update(deliveries).values(status="failed"))
        replayed = svc.replay_failed(conn, utcnow() - timedelta(minutes=5), utcnow() + timedelta(seconds=1))
        none = svc.replay_failed(conn, utcnow() - timedelta(days=2), utcnow() - timedelta(days=1))
    assert sorted(replayed) == sorted(ids) and none == []
    for delivery_id in ids:
        assert _send(engine, delivery_id) == "succeeded"
    with engine.begin() as conn:
        webhook_ids = dict(conn.execute(select(deliveries.c.id, deliveries.c.webhook_id)).all())
    assert {h.headers["webhook-id"] for h in receiver.for_path("/range")} == set(webhook_ids.values())


def test_test_event_ignores_the_event_filter(engine, receiver):
    sub = _subscription(engine, receiver.url + "/test")
    with engine.begin() as conn:
        delivery_id = svc.create_test_delivery(conn, sub["id"])
    assert _send(engine, delivery_id) == "succeeded"
    body = Webhook(sub["secret"]).verify(receiver.for_path("/test")[0].body, receiver.for_path("/test")[0].headers)
    assert body["type"] == "webhook.test"
    assert json.loads(receiver.for_path("/test")[0].body)["data"]["subscription_id"] == sub["id"]


SEND_TIME_CORPUS = [
    "http://127.0.0.1:{port}/", "http://[::1]:{port}/", "http://0x7f000001:{port}/", "http://2130706433:{port}/",
    "http://127.1:{port}/", "http://localhost:{port}/", "http://169.254.169.254/", "http://10.0.0.5/",
    "http://172.16.0.1/", "http://192.168.1.1/", "http://100.64.0.1/", "http://[::ffff:127.0.0.1]:{port}/",
    "http://0.0.0.0:{port}/", "http://[fe80::1]/", "http://[fc00::1]/", "http://224.0.0.1/",
    "http://198.18.0.1/", "http://[::ffff:a9fe:a9fe]/", "http://0177.0.0.1:{port}/", "http://192.0.2.10/",
]


def test_send_time_corpus_is_refused_before_any_connection(engine, receiver, monkeypatch):
    """Subscriptions stored when the allowlist was wider (or DNS answered differently) are refused at send time."""
    import urllib3.util.connection

    connections = []
    real_create = urllib3.util.connection.create_connection
    monkeypatch.setattr(urllib3.util.connection, "create_connection",
                        lambda *a, **k: connections.append(a) or real_create(*a, **k))
    port = receiver.url.rsplit(":", 1)[1]
    now = utcnow()
    with engine.begin() as conn:
        for i, url in enumerate(SEND_TIME_CORPUS):
            conn.execute(subscriptions.insert().values(
                id=f"sub-{i}", url=url.format(port=port), events=["article.published"], languages=[], description="",
                secret=subscriptions_svc.new_secret(), enabled=True, created_at=now))
    ids = _plan(engine)
    assert len(ids) == len(SEND_TIME_CORPUS) == 20
    outcomes = [_send(engine, delivery_id, allowlist=()) for delivery_id in ids]
    assert outcomes == ["retry"] * 20
    assert connections == [] and receiver.requests == [], "no connection was even attempted"
    with engine.begin() as conn:
        errors = conn.execute(select(deliveries.c.last_error)).scalars().all()
    assert all("SSRF" in e for e in errors)
